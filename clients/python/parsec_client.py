#!/usr/bin/env python3
"""A second, independent Parsec client speaking the harness's client contract
(docs/porting-a-client.md), written in Python on the protocol types of the
official parsec-cloud wheel (``parsec._parsec``).

Commands: organization bootstrap, user create, device create, device list,
mfa enable, mfa status, mfa reset-confirm, login (and its workspace shell).
Anything else exits 89 (not implemented by this client).

Run it with the Python of a virtualenv where parsec-cloud is installed, e.g.
    /work/main/target/parsec-official/3.9.3/bin/python clients/python/parsec_client.py ...

PARSEC_PY_CLIENT_FAULT=NAME switches on a deliberate defect (see README.md):
password-first, opaque-key-on-disk, no-retry.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.parse
from pathlib import Path

# --------------------------------------------------------------------------
# Exit codes of the contract
# --------------------------------------------------------------------------

EXIT_OK = 0
EXIT_GENERAL = 1
EXIT_USAGE = 2
EXIT_INVALID_CODE = 3
EXIT_THROTTLED = 4
EXIT_WRONG_PASSWORD = 5
EXIT_UNREACHABLE = 6
EXIT_POLICY = 7
EXIT_BAD_RESET_LINK = 8
EXIT_UNTRUSTED = 9
EXIT_UNIMPLEMENTED = 89

API_VERSION = "5.5"
CONTENT_TYPE = "application/msgpack"
DEVICE_FORMAT = "parsec-py-client-device/1"
BLOB_FORMAT = "parsec-py-client-blob/1"
OTP_ISSUER = "parsec.cloud"

KNOWN_FAULTS = {"password-first", "opaque-key-on-disk", "no-retry"}


def fault(name: str) -> bool:
    """Whether the deliberate defect `name` is switched on."""
    wanted = os.environ.get("PARSEC_PY_CLIENT_FAULT", "")
    return name in {f.strip() for f in wanted.split(",") if f.strip()}


class Failure(Exception):
    """A command's end: one sentence on stderr and an exit code."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def general(message: str) -> Failure:
    return Failure(EXIT_GENERAL, message)


def _import_protocol_types():
    """The wheel's Rust bindings, without running `parsec/__init__.py`: that
    one loads the whole server (FastAPI, ...), seconds per command."""
    import importlib.util
    import types

    if "parsec" not in sys.modules:
        spec = importlib.util.find_spec("parsec")
        if spec is not None and spec.submodule_search_locations:
            package = types.ModuleType("parsec")
            package.__path__ = list(spec.submodule_search_locations)
            sys.modules["parsec"] = package
    import parsec._parsec as bindings

    return bindings


try:
    P = _import_protocol_types()
except ImportError as e:  # pragma: no cover - environment problem
    sys.stderr.write(
        f"Error: the parsec-cloud wheel is not importable ({e}); run this client "
        "with the Python of a virtualenv where parsec-cloud is installed.\n"
    )
    sys.exit(EXIT_GENERAL)

import httpx  # noqa: E402  (shipped with the wheel's virtualenv)

ANON = P.anonymous_cmds.latest
AUTH = P.authenticated_cmds.latest
ANON_SERVER = P.anonymous_server_cmds.latest


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def pause(seconds: float) -> None:
    """Sleeps on the monotonic clock. Not time.sleep: under libfaketime it
    fails with EINVAL (clock_nanosleep on an absolute time)."""
    threading.Event().wait(seconds)


def out(line: str = "") -> None:
    """One whole line on stdout in one write: a reader never sees half of it."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


def now_dt() -> "P.DateTime":
    """The system time (followed by libfaketime under the harness)."""
    return P.DateTime.from_timestamp_micros(int(time.time() * 1_000_000))


def show_utc(at: "P.DateTime") -> str:
    seconds = at.as_timestamp_micros() // 1_000_000
    moment = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + " (UTC)"


def base32_secret(secret: bytes) -> str:
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def otpauth_uri(secret: bytes, organization: str) -> str:
    label = "".join(
        c if (c.isascii() and c.isalnum()) else "".join(f"%{b:02X}" for b in c.encode("utf-8"))
        for c in organization
    )
    return f"otpauth://totp/{OTP_ISSUER}:{label}?secret={base32_secret(secret)}&issuer={OTP_ISSUER}"


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old content or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        try:
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise general(f"{path}: {e}")


# --------------------------------------------------------------------------
# Input: prompts on stderr, answers on stdin, one line each
# --------------------------------------------------------------------------

class Input:
    def __init__(self, password_stdin: bool):
        self.password_stdin = password_stdin

    @staticmethod
    def line() -> str | None:
        line = sys.stdin.readline()
        if line == "":
            return None
        return line.rstrip("\r\n")

    @staticmethod
    def _prompt(text: str) -> None:
        sys.stderr.write(f"{text}: ")
        sys.stderr.flush()

    def code(self, given: str | None, prompt: str = "Enter the 6-digit code from your authenticator app") -> str:
        if given is not None:
            return given.strip()
        self._prompt(prompt)
        line = self.line()
        if line is None or not line.strip():
            raise general("No code given (use --code, or type it when asked).")
        return line.strip()

    def password(self, prompt: str) -> str:
        if self.password_stdin or not sys.stdin.isatty():
            if not self.password_stdin:
                raise general("No terminal to ask the password: use --password-stdin.")
            self._prompt(prompt)
            line = self.line()
            if line is None:
                raise general("--password-stdin: no password on stdin.")
            return line
        import getpass

        return getpass.getpass(f"{prompt}: ")

    def new_password(self, prompt: str) -> str:
        password = self.password(prompt)
        if not password:
            raise general("The password must not be empty.")
        if not self.password_stdin:
            if self.password("Confirm the password") != password:
                raise general("The two passwords differ.")
        return password


# --------------------------------------------------------------------------
# The connection: HTTP RPC with bounded retries
# --------------------------------------------------------------------------

class Unreachable(Exception):
    pass


class Untrusted(Exception):
    pass


class Refused(Exception):
    """A handshake refusal (bare HTTP status) or an unreadable reply."""


HTTP_REFUSALS = {
    404: "the organization does not exist on this server",
    460: "the organization has expired",
    461: "this user has been revoked",
    462: "this user has been frozen by an administrator",
    401: "the server did not accept this device's authentication",
    403: "the server did not accept this device's authentication",
    498: "this device's clock is too far from the server's clock",
    415: "the server could not read the request (HTTP 415)",
}


def _tls_problem(error: BaseException) -> str | None:
    seen = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ssl.SSLError):
            return str(e)
        text = str(e)
        if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text and "handshake" in text.lower():
            return text
        e = e.__cause__ or e.__context__
    return None


class Connection:
    """One organization of one server. Only failures that say nothing about
    the request itself are retried (no connection, a connection closed
    without an answer, a gateway's 502/503/504), within `deadline` seconds.
    A request that carries a code is not sent again once it may have been
    read by the server and left unanswered in time (a read timeout): the
    server may have counted it."""

    def __init__(self, server: "P.ParsecAddr", organization: str, deadline: float = 30.0):
        self.server = server
        self.organization = organization
        self.deadline = deadline
        self.attempt_timeout = min(deadline, 10.0)
        verify: object = True
        ca = os.environ.get("PARSEC_MFA_CA_CERT")
        if ca:
            verify = ssl.create_default_context(cafile=ca)
        self.http = httpx.Client(verify=verify, http1=True, http2=False, trust_env=False)

    def org_url(self, family: str) -> str:
        return self.server.to_http_url(f"{family}/{urllib.parse.quote(self.organization, safe='')}")

    def anonymous(self, module, req, carries_code: bool = False):
        raw = self._send(self.org_url("anonymous"), req.dump(), None, carries_code)
        return self._load(module, raw)

    def authenticated(self, signer: "Device", module, req, carries_code: bool = False):
        raw = self._send(self.org_url("authenticated"), req.dump(), signer, carries_code)
        return self._load(module, raw)

    def server_config(self):
        raw = self._send(self.server.to_http_url("anonymous_server"), ANON_SERVER.server_config.Req().dump(), None, False)
        return self._load(ANON_SERVER.server_config, raw)

    @staticmethod
    def _load(module, raw: bytes):
        try:
            return module.Rep.load(raw)
        except Exception as e:  # noqa: BLE001 - any decoding failure
            raise Refused(f"the reply is not a valid Parsec message ({e})")

    @staticmethod
    def _token(signer: "Device") -> str:
        signed = f"PARSEC-SIGN-ED25519.{signer.device_id.hex}.{int(time.time())}"
        signature = signer.signing_key.sign_only_signature(signed.encode("ascii"))
        return f"{signed}.{base64.urlsafe_b64encode(signature).decode('ascii')}"

    def _send(self, url: str, body: bytes, signer, carries_code: bool) -> bytes:
        started = time.monotonic()
        attempt = 0
        while True:
            remaining = self.deadline - (time.monotonic() - started)
            timeout = max(0.001, min(self.attempt_timeout, remaining))
            headers = {"Api-Version": API_VERSION, "Content-Type": CONTENT_TYPE}
            if signer is not None:
                # Signed anew at each attempt: a retry never carries a stale token.
                headers["Authorization"] = f"Bearer {self._token(signer)}"
            try:
                response = self.http.post(url, content=body, headers=headers, timeout=timeout)
                status = response.status_code
                if status == 200:
                    return response.content
                if 502 <= status <= 504:
                    reason = f"HTTP {status} from a gateway"
                elif status == 422:
                    supported = response.headers.get("Supported-Api-Versions", "none announced")
                    raise Refused(f"the server does not speak API {API_VERSION} (it supports: {supported})")
                else:
                    raise Refused(HTTP_REFUSALS.get(status, f"unexpected answer from the server: HTTP {status}"))
            except httpx.ConnectTimeout:
                reason = "timed out while connecting"
            except httpx.ConnectError as e:
                why = _tls_problem(e)
                if why is not None:
                    raise Untrusted(why)
                reason = "connection refused or failed"
            except httpx.TimeoutException:
                # The request may have reached the server: a code it carries
                # may have been counted, so it is not sent again.
                if carries_code:
                    raise Unreachable("timed out waiting for the answer")
                reason = "timed out"
            except httpx.TransportError as e:
                why = _tls_problem(e)
                if why is not None:
                    raise Untrusted(why)
                reason = "connection lost"
            if fault("no-retry"):
                raise Unreachable(reason)
            wait = min(0.2 * (2 ** attempt), 4.0)
            attempt += 1
            if time.monotonic() - started + wait >= self.deadline:
                raise Unreachable(reason)
            pause(wait)


def connection_failure(e: Exception) -> Failure:
    if isinstance(e, Unreachable):
        return Failure(EXIT_UNREACHABLE, f"The server could not be reached ({e}). Check your connection and try again.")
    if isinstance(e, Untrusted):
        return Failure(
            EXIT_UNTRUSTED,
            f"The server cannot be trusted: {e}. Check the address, or give its authority with PARSEC_MFA_CA_CERT.",
        )
    return general(f"The server refused: {e}.")


NETWORK_ERRORS = (Unreachable, Untrusted, Refused)


# --------------------------------------------------------------------------
# Devices: keys in memory, device files on disk
# --------------------------------------------------------------------------

class Device:
    """An opened device: every key, in memory only."""

    def __init__(self, **fields):
        self.server_url: str = fields["server_url"]
        self.organization_id: str = fields["organization_id"]
        self.user_id = fields["user_id"]
        self.device_id = fields["device_id"]
        self.email: str = fields["email"]
        self.human_label: str = fields["human_label"]
        self.device_label: str = fields["device_label"]
        self.profile: str = fields["profile"]
        self.root_verify_key = fields["root_verify_key"]
        self.signing_key = fields["signing_key"]
        self.private_key = fields["private_key"]
        self.local_symkey = fields["local_symkey"]

    def human_handle(self):
        return P.HumanHandle(P.EmailAddress(self.email), self.human_label)

    def keys_bytes(self) -> bytes:
        return json.dumps(
            {
                "device_id": self.device_id.hex,
                "user_id": self.user_id.hex,
                "profile": self.profile,
                "root_verify_key": b64e(self.root_verify_key.encode()),
                "signing_key": b64e(self.signing_key.encode()),
                "private_key": b64e(self.private_key.encode()),
                "local_symkey": b64e(self.local_symkey.secret),
            }
        ).encode("utf-8")


KDF_COSTS = {
    # scrypt parameters: n (CPU/memory cost), r (block size), p.
    "interactive": {"n": 2 ** 15, "r": 8, "p": 1},
    # The cheapest: for test suites only, never for real secrets.
    "minimal": {"n": 2 ** 4, "r": 1, "p": 1},
}


def derive_password_key(password: str, kdf: dict) -> "P.SecretKey":
    if kdf.get("name") != "scrypt":
        raise general(f"unknown key derivation `{kdf.get('name')}` in the device file")
    n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=b64d(kdf["salt"]), n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )
    return P.SecretKey(key)


class DeviceFile:
    """What is on disk: the device's public description in clear, its keys
    encrypted with the password's key and, when MFA protects it, encrypted
    again with the opaque key the server keeps (released against a code)."""

    def __init__(self, path: Path, data: dict):
        self.path = path
        self.data = data

    @property
    def device_id(self) -> str:
        return self.data["device_id"]

    @property
    def email(self) -> str:
        return self.data["email"]

    @property
    def organization_id(self) -> str:
        return self.data["organization_id"]

    @property
    def device_label(self) -> str:
        return self.data["device_label"]

    @property
    def opaque_key_id(self) -> str | None:
        return self.data.get("totp_opaque_key_id")

    @property
    def user_id(self):
        return P.UserID.from_hex(self.data["user_id"])

    def server(self) -> "P.ParsecAddr":
        try:
            return P.ParsecAddr.from_url(self.data["server_url"])
        except Exception as e:  # noqa: BLE001
            raise general(f"the device file's server `{self.data['server_url']}` is invalid: {e}")

    @staticmethod
    def load(path: Path) -> "DeviceFile":
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise general(f"{path} is not a valid device file: {e}")
        if not isinstance(data, dict) or data.get("format") != DEVICE_FORMAT:
            raise general(f"{path} is not a valid device file: unknown format")
        return DeviceFile(path, data)

    def unlock(self, password: str, opaque_key: "P.SecretKey | None") -> Device:
        ciphertext = b64d(self.data["ciphertext"])
        if self.opaque_key_id is not None:
            if opaque_key is None:
                raise Failure(EXIT_INVALID_CODE, "This device is protected by MFA: a code is needed to open it.")
            try:
                ciphertext = opaque_key.decrypt(ciphertext)
            except Exception:  # noqa: BLE001
                raise general("The MFA key does not open this device file.")
        key = derive_password_key(password, self.data["kdf"])
        try:
            clear = key.decrypt(ciphertext)
        except Exception:  # noqa: BLE001
            raise Failure(EXIT_WRONG_PASSWORD, "The password is not correct.")
        try:
            keys = json.loads(clear.decode("utf-8"))
            if keys["device_id"] != self.data["device_id"] or keys["user_id"] != self.data["user_id"]:
                raise ValueError("its header does not match its content")
            return Device(
                server_url=self.data["server_url"],
                organization_id=self.data["organization_id"],
                user_id=P.UserID.from_hex(keys["user_id"]),
                device_id=P.DeviceID.from_hex(keys["device_id"]),
                email=self.data["email"],
                human_label=self.data["human_label"],
                device_label=self.data["device_label"],
                profile=keys["profile"],
                root_verify_key=P.VerifyKey(b64d(keys["root_verify_key"])),
                signing_key=P.SigningKey(b64d(keys["signing_key"])),
                private_key=P.PrivateKey(b64d(keys["private_key"])),
                local_symkey=P.SecretKey(b64d(keys["local_symkey"])),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise general(f"The device file is damaged: {e}")


def protect(
    device: Device,
    password: str,
    cost: str,
    opaque: "tuple[P.TOTPOpaqueKeyID, P.SecretKey] | None",
    created_on: str | None = None,
) -> dict:
    kdf = {"name": "scrypt", "salt": b64e(secrets.token_bytes(16)), **KDF_COSTS[cost]}
    ciphertext = derive_password_key(password, kdf).encrypt(device.keys_bytes())
    if opaque is not None:
        ciphertext = opaque[1].encrypt(ciphertext)
    stamp = now_dt().to_rfc3339()
    return {
        "format": DEVICE_FORMAT,
        "created_on": created_on or stamp,
        "protected_on": stamp,
        "server_url": device.server_url,
        "organization_id": device.organization_id,
        "user_id": device.user_id.hex,
        "device_id": device.device_id.hex,
        "email": device.email,
        "human_label": device.human_label,
        "device_label": device.device_label,
        "kdf": kdf,
        "totp_opaque_key_id": opaque[0].hex if opaque is not None else None,
        "ciphertext": b64e(ciphertext),
    }


class ConfigDir:
    """<root>/devices/<device id>.json and <root>/workspaces/<device id>/."""

    def __init__(self, root: Path):
        self.root = root

    @staticmethod
    def from_args(args) -> "ConfigDir":
        given = getattr(args, "config_dir", None) or os.environ.get("PARSEC_MFA_CONFIG_DIR")
        if given:
            return ConfigDir(Path(given))
        base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return ConfigDir(Path(base) / "parsec-py-client")

    def device_path(self, device_id: str) -> Path:
        return self.root / "devices" / f"{device_id}.json"

    def workspace_dir(self, device_id: str) -> Path:
        return self.root / "workspaces" / device_id

    def save(self, data: dict) -> Path:
        path = self.device_path(data["device_id"])
        write_atomically(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
        return path

    def devices(self) -> list[DeviceFile]:
        folder = self.root / "devices"
        if not folder.is_dir():
            return []
        return [DeviceFile.load(p) for p in sorted(folder.glob("*.json"))]

    def find(self, selector: str) -> DeviceFile:
        wanted = selector.lower()
        matches = [f for f in self.devices() if f.device_id.startswith(wanted) or f.email == selector]
        if not matches:
            raise general(f"No device matches `{selector}` (see `device list`).")
        if len(matches) > 1:
            raise general(f"Several devices match `{selector}`: give more of the device id.")
        return matches[0]


def saved_line(path: Path, device: Device) -> str:
    return f"Device {device.device_id.hex} ({device.device_label}) saved in {path}"


# --------------------------------------------------------------------------
# MFA requests
# --------------------------------------------------------------------------

def throttled(wait_until) -> Failure:
    return Failure(
        EXIT_THROTTLED,
        f"Too many wrong codes: wait until {show_utc(wait_until)} before trying again.",
    )


def invalid_code() -> Failure:
    return Failure(EXIT_INVALID_CODE, "The code you entered is invalid. Please try again.")


def unknown_status(rep) -> Failure:
    status = getattr(rep, "status", None) or type(rep).__name__
    return general(f"Unexpected answer from the server: `{status}`.")


def fetch_opaque_key(conn: Connection, user_id, opaque_key_id, code: str) -> "P.SecretKey":
    mod = ANON.totp_fetch_opaque_key
    req = mod.Req(user_id=user_id, opaque_key_id=opaque_key_id, one_time_password=code)
    try:
        rep = conn.anonymous(mod, req, carries_code=True)
    except NETWORK_ERRORS as e:
        if isinstance(e, Unreachable):
            raise Failure(
                EXIT_UNREACHABLE,
                f"The server could not be reached ({e}); logging in with MFA needs it. "
                "Your files stay on this computer: log in again once you are online.",
            )
        raise connection_failure(e)
    if isinstance(rep, mod.RepOk):
        return rep.opaque_key
    if isinstance(rep, mod.RepInvalidOneTimePassword):
        raise invalid_code()
    if isinstance(rep, mod.RepThrottled):
        raise throttled(rep.wait_until)
    raise unknown_status(rep)


def setup_secret(conn: Connection, device: Device) -> bytes | None:
    """The secret to show while the setup is not confirmed; None once it is."""
    mod = AUTH.totp_setup_get_secret
    try:
        rep = conn.authenticated(device, mod, mod.Req())
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if isinstance(rep, mod.RepOk):
        return bytes(rep.totp_secret)
    if isinstance(rep, mod.RepAlreadySetup):
        return None
    raise unknown_status(rep)


def check_advice(conn: Connection, file: DeviceFile) -> None:
    """The server's advice on device protection, applied at login."""
    try:
        rep = conn.server_config()
    except Unreachable:
        if file.opaque_key_id is None:
            sys.stderr.write(
                "Note: the server is unreachable; its device protection advice will be checked at the next login.\n"
            )
            return
        raise
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if not isinstance(rep, ANON_SERVER.server_config.RepOk):
        raise unknown_status(rep)
    advice = []
    for text in rep.advisory_device_file_protection or []:
        try:
            advice.append(P.AdvisoryDeviceFileProtection.from_str(text))
        except Exception:  # noqa: BLE001 - an advice this client does not know
            continue
    if not advice and not rep.advisory_device_file_protection:
        return
    password = P.AdvisoryDeviceFilePrimaryProtection.PASSWORD
    plain = any(a.primary == password and not a.with_totp for a in advice)
    with_totp = any(a.primary == password and a.with_totp for a in advice)
    if plain or (with_totp and file.opaque_key_id is not None):
        return
    if with_totp:
        raise Failure(
            EXIT_POLICY,
            "Your organization requires multi-factor authentication: enable it with "
            "`mfa enable --device <device>`, then log in again.",
        )
    raise Failure(EXIT_POLICY, "Your organization does not allow password-protected devices; ask your administrator.")


def open_device(conn: Connection, file: DeviceFile, code: str | None, inp: Input, enforce: bool) -> Device:
    """The user guide's order: the code first (the server checks it and
    releases the opaque key), then the password; a refused code asks no
    password."""
    opaque_key = None
    password = None
    if fault("password-first"):
        password = inp.password(f"Password of {file.email}")
    if file.opaque_key_id is not None:
        typed = inp.code(code)
        opaque_key = fetch_opaque_key(conn, file.user_id, P.TOTPOpaqueKeyID.from_hex(file.opaque_key_id), typed)
    if password is None:
        password = inp.password(f"Password of {file.email}")
    device = file.unlock(password, opaque_key)
    if opaque_key is not None and fault("opaque-key-on-disk"):
        # The deliberate defect: the released key kept beside the device.
        file.data["cached_totp_opaque_key"] = opaque_key.secret.hex()
        ConfigDir(file.path.parent.parent).save(file.data)
        write_atomically(file.path.parent.parent / "cache" / f"{file.device_id}.opaque-key", opaque_key.secret)
    if enforce:
        try:
            check_advice(conn, file)
        except Unreachable as e:
            raise connection_failure(e)
    return device


# --------------------------------------------------------------------------
# Enrollment: bootstrap, new user, new device
# --------------------------------------------------------------------------

def certificates(device: Device, author, at, signing_key):
    user = P.UserCertificate(
        author=author,
        timestamp=at,
        user_id=device.user_id,
        human_handle=device.human_handle(),
        public_key=device.private_key.public_key,
        algorithm=P.PrivateKeyAlgorithm.X25519_XSALSA20_POLY1305,
        profile=P.UserProfile.from_str(device.profile),
    )
    redacted_user = P.UserCertificate(
        author=author,
        timestamp=at,
        user_id=device.user_id,
        human_handle=None,  # the redacted form: no personal data
        public_key=device.private_key.public_key,
        algorithm=P.PrivateKeyAlgorithm.X25519_XSALSA20_POLY1305,
        profile=P.UserProfile.from_str(device.profile),
    )
    dev, redacted_dev = device_certificates(device, author, at)
    return (
        user.dump_and_sign(signing_key),
        dev.dump_and_sign(signing_key),
        redacted_user.dump_and_sign(signing_key),
        redacted_dev.dump_and_sign(signing_key),
    )


def device_certificates(device: Device, author, at):
    def make(label):
        return P.DeviceCertificate(
            author=author,
            timestamp=at,
            purpose=P.DevicePurpose.STANDARD,
            user_id=device.user_id,
            device_id=device.device_id,
            device_label=label,
            verify_key=device.signing_key.verify_key,
            algorithm=P.SigningKeyAlgorithm.ED25519,
        )

    # The redacted form carries no label (None).
    return make(P.DeviceLabel(device.device_label)), make(None)


def with_increasing_timestamp(send) -> None:
    """Certificate timestamps must increase strictly: on a frozen or coarse
    clock the server names the instant to move past (a few times at most)."""
    at = now_dt()
    for _ in range(3):
        later = send(at)
        if later is None:
            return
        at = P.DateTime.from_timestamp_micros(later.as_timestamp_micros() + 1)
    raise general("The server kept asking for a later certificate timestamp.")


def new_device_keys(server_url, organization, root_verify_key, email, name, label, profile) -> Device:
    return Device(
        server_url=server_url,
        organization_id=organization,
        user_id=P.UserID.new(),
        device_id=P.DeviceID.new(),
        email=email,
        human_label=name,
        device_label=label,
        profile=profile,
        root_verify_key=root_verify_key,
        signing_key=P.SigningKey.generate(),
        private_key=P.PrivateKey.generate(),
        local_symkey=P.SecretKey.generate(),
    )


def check_identity(email: str, name: str, label: str) -> None:
    try:
        P.HumanHandle(P.EmailAddress(email), name)
        P.DeviceLabel(label)
    except Exception as e:  # noqa: BLE001
        raise general(f"Invalid identity: {e}")


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

def cmd_bootstrap(args) -> None:
    try:
        link = P.ParsecOrganizationBootstrapAddr.from_url(args.url.strip(), allow_http_redirection=True)
    except Exception as e:  # noqa: BLE001
        raise general(f"This is not a valid bootstrap link: {e}")
    check_identity(args.email, args.name, args.device_label)
    inp = Input(args.password_stdin)
    password = inp.new_password("Choose a password for this device")
    server = link.get_server_addr()
    organization = link.organization_id.str
    conn = Connection(server, organization, args.deadline)
    root = P.SigningKey.generate()
    device = new_device_keys(
        server.to_url(), organization, root.verify_key, args.email, args.name, args.device_label, "ADMIN"
    )
    user, dev, r_user, r_dev = certificates(device, None, now_dt(), root)
    mod = ANON.organization_bootstrap
    req = mod.Req(
        bootstrap_token=link.token,
        root_verify_key=root.verify_key,
        user_certificate=user,
        device_certificate=dev,
        redacted_user_certificate=r_user,
        redacted_device_certificate=r_dev,
        sequester_authority_certificate=None,
    )
    try:
        rep = conn.anonymous(mod, req)
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if not isinstance(rep, mod.RepOk):
        raise general(f"The bootstrap failed: the server refused ({getattr(rep, 'status', type(rep).__name__)}).")
    path = ConfigDir.from_args(args).save(protect(device, password, args.kdf_cost, None))
    out(f"Organization {organization} bootstrapped")
    out(saved_line(path, device))


def _open_for(args, enforce: bool):
    config = ConfigDir.from_args(args)
    file = config.find(args.device)
    conn = Connection(file.server(), file.organization_id, args.deadline)
    inp = Input(args.password_stdin)
    device = open_device(conn, file, args.code, inp, enforce)
    return config, file, conn, inp, device


def cmd_user_create(args) -> None:
    check_identity(args.email, args.name, args.device_label)
    _, _, conn, inp, admin = _open_for(args, enforce=False)
    password = inp.new_password(f"Choose a password for {args.email}")
    member = new_device_keys(
        admin.server_url, admin.organization_id, admin.root_verify_key,
        args.email, args.name, args.device_label, "STANDARD",
    )
    mod = AUTH.user_create

    def send(at):
        user, dev, r_user, r_dev = certificates(member, admin.device_id, at, admin.signing_key)
        req = mod.Req(
            user_certificate=user,
            device_certificate=dev,
            redacted_user_certificate=r_user,
            redacted_device_certificate=r_dev,
        )
        try:
            rep = conn.authenticated(admin, mod, req)
        except NETWORK_ERRORS as e:
            raise connection_failure(e)
        if isinstance(rep, mod.RepOk):
            return None
        if isinstance(rep, mod.RepRequireGreaterTimestamp):
            return rep.strictly_greater_than
        raise general(f"The user could not be created: the server refused ({getattr(rep, 'status', type(rep).__name__)}).")

    with_increasing_timestamp(send)
    path = ConfigDir(Path(args.new_config_dir)).save(protect(member, password, args.kdf_cost, None))
    out(f"User {args.email} created")
    out(saved_line(path, member))


def cmd_device_create(args) -> None:
    try:
        P.DeviceLabel(args.label)
    except Exception as e:  # noqa: BLE001
        raise general(f"Invalid device label: {e}")
    config, _, conn, inp, existing = _open_for(args, enforce=False)
    password = inp.new_password("Choose a password for the new device")
    device = Device(
        server_url=existing.server_url,
        organization_id=existing.organization_id,
        user_id=existing.user_id,
        device_id=P.DeviceID.new(),
        email=existing.email,
        human_label=existing.human_label,
        device_label=args.label,
        profile=existing.profile,
        root_verify_key=existing.root_verify_key,
        signing_key=P.SigningKey.generate(),
        private_key=existing.private_key,
        local_symkey=P.SecretKey.generate(),
    )
    mod = AUTH.device_create

    def send(at):
        cert, redacted = device_certificates(device, existing.device_id, at)
        req = mod.Req(
            device_certificate=cert.dump_and_sign(existing.signing_key),
            redacted_device_certificate=redacted.dump_and_sign(existing.signing_key),
        )
        try:
            rep = conn.authenticated(existing, mod, req)
        except NETWORK_ERRORS as e:
            raise connection_failure(e)
        if isinstance(rep, mod.RepOk):
            return None
        if isinstance(rep, mod.RepRequireGreaterTimestamp):
            return rep.strictly_greater_than
        raise general(f"The device could not be created: the server refused ({getattr(rep, 'status', type(rep).__name__)}).")

    with_increasing_timestamp(send)
    path = config.save(protect(device, password, args.kdf_cost, None))
    out(saved_line(path, device))


def cmd_device_list(args) -> None:
    config = ConfigDir.from_args(args)
    files = config.devices()
    if not files:
        out(f"No device in {config.root}")
    for f in files:
        protection = "password+MFA" if f.opaque_key_id is not None else "password"
        out(f"{f.device_id}  {f.organization_id}  {f.email}  {f.device_label}  {protection}")


def cmd_device_show(args) -> None:
    """The ids a device file shows in clear (no password asked)."""
    config = ConfigDir.from_args(args)
    file = config.find(args.device)
    out(f"Device ID: {file.device_id}")
    out(f"User ID: {file.user_id.hex}")
    out(f"Organization: {file.organization_id}")
    if file.opaque_key_id is not None:
        out(f"Opaque key: {file.opaque_key_id}")


def qr_lines(text: str) -> list[str]:
    """The QR code of `text` in Unicode half blocks, two modules a character,
    dark modules drawn (segno, pure Python, encodes it); no lines when
    segno is not installed."""
    try:
        import segno
    except ImportError:
        return []
    matrix = [list(row) for row in segno.make(text, error="m", micro=False).matrix]
    quiet = 2
    width = len(matrix[0]) + 2 * quiet
    blank = [0] * width
    rows = [blank] * quiet + [[0] * quiet + row + [0] * quiet for row in matrix] + [blank] * quiet
    if len(rows) % 2:
        rows.append(blank)
    glyphs = {(1, 1): "\u2588", (1, 0): "\u2580", (0, 1): "\u2584", (0, 0): " "}
    return ["".join(glyphs[(top[x], bottom[x])] for x in range(width)) for top, bottom in zip(rows[0::2], rows[1::2])]


def show_secret(secret: bytes, organization: str) -> None:
    uri = otpauth_uri(secret, organization)
    out("1. Install an authentication app on your mobile.")
    out("2. Scan the QR code or copy the key.")
    out(f"Key: {base32_secret(secret)}")
    out(f"URI: {uri}")
    for line in qr_lines(uri):
        out(line)


def cmd_mfa_status(args) -> None:
    _, file, conn, _, device = _open_for(args, enforce=False)
    secret = setup_secret(conn, device)
    if secret is None:
        out(f"MFA: set up for {file.email}")
    else:
        out(f"MFA: not set up for {file.email}")
    if file.opaque_key_id is not None:
        out(f"This device: protected by MFA (opaque key {file.opaque_key_id})")
    else:
        out("This device: not protected by MFA")


def cmd_mfa_enable(args) -> None:
    config = ConfigDir.from_args(args)
    file = config.find(args.device)
    if file.opaque_key_id is not None:
        raise general("MFA is already enabled on this device.")
    conn = Connection(file.server(), file.organization_id, args.deadline)
    inp = Input(args.password_stdin)
    password = inp.password(f"Enter your current password ({file.email})")
    # The password is checked here first, as the profile page does.
    device = file.unlock(password, None)
    secret = setup_secret(conn, device)
    if secret is not None:
        show_secret(secret, file.organization_id)
    else:
        out(f"MFA is already set up for {file.email}: use the same entry of your authenticator app.")
    code = inp.code(args.code)
    if secret is not None:
        mod = AUTH.totp_setup_confirm
        try:
            rep = conn.authenticated(device, mod, mod.Req(one_time_password=code), carries_code=True)
        except NETWORK_ERRORS as e:
            raise connection_failure(e)
        if isinstance(rep, mod.RepInvalidOneTimePassword):
            raise invalid_code()
        if isinstance(rep, mod.RepAlreadySetup):
            raise general("Multi-factor authentication is already set up for this user.")
        if not isinstance(rep, mod.RepOk):
            raise unknown_status(rep)
    mod = AUTH.totp_create_opaque_key
    try:
        rep = conn.authenticated(device, mod, mod.Req())
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if not isinstance(rep, mod.RepOk):
        raise unknown_status(rep)
    opaque_key_id, opaque_key = rep.opaque_key_id, rep.opaque_key
    if secret is None:
        # Set up by another device: the code is checked by fetching the new
        # key with it, so a device is never protected by a code the person
        # cannot produce.
        fetched = fetch_opaque_key(conn, device.user_id, opaque_key_id, code)
        if fetched.secret != opaque_key.secret:
            raise general("The server released another key than the one it created.")
    config.save(protect(device, password, args.kdf_cost, (opaque_key_id, opaque_key), file.data.get("created_on")))
    out(
        "Multi-factor authentication has been successfully enabled and will now be "
        "required to log in to this organization."
    )


def cmd_reset_confirm(args) -> None:
    try:
        link = P.ParsecTOTPResetAddr.from_url(args.url.strip(), allow_http_redirection=True)
    except Exception as e:  # noqa: BLE001
        raise general(f"This link is not a valid Multi-Factor Authentication reset link ({e}).")
    organization = link.organization_id.str
    conn = Connection(link.get_server_addr(), organization, args.deadline)
    bad_link = Failure(
        EXIT_BAD_RESET_LINK,
        "This MFA reset link is no longer valid: it was already used or a newer one replaced it. "
        "Ask your administrator for a new one.",
    )
    mod = ANON.totp_setup_get_secret
    try:
        rep = conn.anonymous(mod, mod.Req(user_id=link.user_id, token=link.token))
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if isinstance(rep, mod.RepBadToken):
        raise bad_link
    if not isinstance(rep, mod.RepOk):
        raise unknown_status(rep)
    out(f"Multi-Factor Authentication (MFA) for {organization}")
    show_secret(bytes(rep.totp_secret), organization)
    code = Input(True).code(args.code)
    mod = ANON.totp_setup_confirm
    try:
        rep = conn.anonymous(
            mod, mod.Req(user_id=link.user_id, token=link.token, one_time_password=code), carries_code=True
        )
    except NETWORK_ERRORS as e:
        raise connection_failure(e)
    if isinstance(rep, mod.RepInvalidOneTimePassword):
        raise invalid_code()
    if isinstance(rep, mod.RepBadToken):
        raise bad_link
    if not isinstance(rep, mod.RepOk):
        raise unknown_status(rep)
    out(
        "Multi-factor authentication has been successfully enabled and will now be "
        "required to log in to this organization."
    )


# --------------------------------------------------------------------------
# The workspace: files encrypted with the device's local key, no server
# --------------------------------------------------------------------------

class WorkspaceError(Exception):
    pass


class Workspace:
    """One encrypted blob per file (<random>.blob), holding its name and
    content: the folder shows only how many files there are."""

    def __init__(self, folder: Path, key: "P.SecretKey"):
        self.folder = folder
        self.key = key

    def _entries(self) -> list[tuple[Path, str, bytes]]:
        if not self.folder.is_dir():
            return []
        entries = []
        for path in sorted(self.folder.glob("*.blob")):
            try:
                clear = self.key.decrypt(path.read_bytes())
                blob = json.loads(clear.decode("utf-8"))
                if blob.get("format") != BLOB_FORMAT:
                    raise ValueError("unknown format")
                entries.append((path, blob["name"], b64d(blob["content"])))
            except Exception:  # noqa: BLE001
                raise WorkspaceError(f"{path} cannot be decrypted with this device's key (damaged, or another device's)")
        entries.sort(key=lambda e: e[1])
        return entries

    def _find(self, name: str):
        for entry in self._entries():
            if entry[1] == name:
                return entry
        return None

    def names(self) -> list[str]:
        return [e[1] for e in self._entries()]

    def read(self, name: str) -> bytes | None:
        entry = self._find(name)
        return entry[2] if entry else None

    def write(self, name: str, content: bytes) -> None:
        if not name or len(name.encode()) > 255 or "/" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise WorkspaceError(f"`{name}` is not a valid file name (1 to 255 bytes, no `/`, no control characters)")
        entry = self._find(name)
        path = entry[0] if entry else self.folder / f"{secrets.token_hex(16)}.blob"
        clear = json.dumps({"format": BLOB_FORMAT, "name": name, "content": b64e(content)}).encode("utf-8")
        try:
            write_atomically(path, self.key.encrypt(clear))
        except Failure as e:
            raise WorkspaceError(e.message)

    def remove(self, name: str) -> None:
        entry = self._find(name)
        if entry is None:
            raise WorkspaceError(f"no file named `{name}` in the workspace")
        try:
            entry[0].unlink()
        except OSError as e:
            raise WorkspaceError(f"{entry[0]}: {e}")


def shell_line(ws: Workspace, line: str) -> None:
    verb, _, rest = line.partition(" ")
    name, _, text = rest.lstrip().partition(" ")
    name = name.strip() if text == "" else name
    if verb == "ls":
        for n in ws.names():
            out(n)
    elif verb == "cat":
        content = ws.read(name)
        if content is None:
            raise WorkspaceError(f"no file named `{name}` in the workspace")
        out(content.decode("utf-8", errors="replace"))
    elif verb == "write":
        ws.write(name, text.encode("utf-8"))
        out(f"Saved {name}")
    elif verb == "append":
        content = ws.read(name) or b""
        if content:
            content += b"\n"
        ws.write(name, content + text.encode("utf-8"))
        out(f"Saved {name}")
    elif verb == "rm":
        ws.remove(name)
        out(f"Removed {name}")
    elif verb == "echo":
        out(rest.strip())
    elif verb == "help":
        out("ls | cat NAME | write NAME TEXT | append NAME TEXT | rm NAME | echo TEXT | exit")
    else:
        raise WorkspaceError(f"Unknown command `{verb}` (try `help`).")


def cmd_login(args) -> None:
    config, file, _, _, device = _open_for(args, enforce=True)
    out(f"Logged in as {device.email} on {device.organization_id} ({device.device_label})")
    ws = Workspace(config.workspace_dir(file.device_id), device.local_symkey)
    interactive = sys.stdin.isatty()
    failed = False
    while True:
        if interactive:
            sys.stdout.write("workspace> ")
            sys.stdout.flush()
        line = Input.line()
        if line is None:
            break
        line = line.strip()
        if not line:
            continue
        if line in ("exit", "quit"):
            break
        try:
            shell_line(ws, line)
        except WorkspaceError as e:
            sys.stderr.write(f"{e}\n")
            sys.stderr.flush()
            failed = True
    if failed:
        raise general("Some workspace commands failed (see above).")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

IMPLEMENTED = {
    ("organization", "bootstrap"),
    ("user", "create"),
    ("device", "create"),
    ("device", "list"),
    ("device", "show"),
    ("mfa", "enable"),
    ("mfa", "status"),
    ("mfa", "reset-confirm"),
    ("login",),
}


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit, made ours
        raise UsageError(f"{self.prog}: {message}")


def common(p: argparse.ArgumentParser, device: bool = False, kdf: bool = False, password: bool = True) -> None:
    p.add_argument("--config-dir")
    p.add_argument("--deadline", type=float, default=30.0)
    if password:
        p.add_argument("--password-stdin", action="store_true")
    if device:
        p.add_argument("--device", required=True)
        p.add_argument("--code")
    if kdf:
        p.add_argument("--kdf-cost", choices=sorted(KDF_COSTS), default="interactive")


def build_parser() -> argparse.ArgumentParser:
    top = Parser(prog="parsec_client.py", description="A Parsec client (Python) for the conformance harness.")
    sub = top.add_subparsers(dest="group", parser_class=Parser)

    org = sub.add_parser("organization").add_subparsers(dest="action", parser_class=Parser)
    p = org.add_parser("bootstrap")
    p.add_argument("url")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--device-label", default="laptop")
    common(p, kdf=True)
    p.set_defaults(run=cmd_bootstrap)

    user = sub.add_parser("user").add_subparsers(dest="action", parser_class=Parser)
    p = user.add_parser("create")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--device-label", default="laptop")
    p.add_argument("--new-config-dir", required=True)
    common(p, device=True, kdf=True)
    p.set_defaults(run=cmd_user_create)

    dev = sub.add_parser("device").add_subparsers(dest="action", parser_class=Parser)
    p = dev.add_parser("create")
    p.add_argument("--label", required=True)
    common(p, device=True, kdf=True)
    p.set_defaults(run=cmd_device_create)
    p = dev.add_parser("list")
    common(p, password=False)
    p.set_defaults(run=cmd_device_list)
    p = dev.add_parser("show")
    p.add_argument("--device", required=True)
    p.add_argument("--config-dir")
    p.set_defaults(run=cmd_device_show)

    mfa = sub.add_parser("mfa").add_subparsers(dest="action", parser_class=Parser)
    p = mfa.add_parser("enable")
    common(p, device=True, kdf=True)
    p.set_defaults(run=cmd_mfa_enable)
    p = mfa.add_parser("status")
    common(p, device=True, kdf=True)
    p.set_defaults(run=cmd_mfa_status)
    p = mfa.add_parser("reset-confirm")
    p.add_argument("url")
    p.add_argument("--code")
    common(p, kdf=True)
    p.set_defaults(run=cmd_reset_confirm)

    p = sub.add_parser("login")
    common(p, device=True, kdf=True)
    p.set_defaults(run=cmd_login)
    return top


def main(argv: list[str]) -> int:
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    unknown = [f for f in os.environ.get("PARSEC_PY_CLIENT_FAULT", "").split(",") if f.strip() and f.strip() not in KNOWN_FAULTS]
    if unknown:
        sys.stderr.write(f"Error: PARSEC_PY_CLIENT_FAULT: unknown defect(s) {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_FAULTS))})\n")
        return EXIT_USAGE
    if argv and not argv[0].startswith("-"):
        key = tuple(argv[:1]) if argv[0] == "login" else tuple(argv[:2])
        if key not in IMPLEMENTED:
            sys.stderr.write(f"Error: `{' '.join(key)}` is not implemented by this client.\n")
            return EXIT_UNIMPLEMENTED
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        sys.stderr.write(f"Error: {e}\n")
        return EXIT_USAGE
    if getattr(args, "run", None) is None:
        build_parser().print_usage(sys.stderr)
        return EXIT_USAGE
    if hasattr(args, "deadline") and not (0 < args.deadline <= 3600):
        sys.stderr.write("Error: --deadline must be between 0 and 3600 seconds.\n")
        return EXIT_USAGE
    try:
        args.run(args)
    except Failure as e:
        sys.stdout.flush()
        sys.stderr.write(f"Error: {e.message}\n")
        return e.code
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
