"""Offline checks of the Python client's own parts (device file, workspace,
prompt order), no server needed:

    /work/main/target/parsec-official/3.9.3/bin/python -m unittest clients/python/test_parsec_client.py
"""

from __future__ import annotations

import base64
import io
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parsec_client as c  # noqa: E402

P = c.P


def a_device() -> c.Device:
    return c.new_device_keys(
        "parsec3://127.0.0.1:1?no_ssl=true", "Org", P.SigningKey.generate().verify_key,
        "alice@example.com", "Alice", "laptop", "ADMIN",
    )


def encodings(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), base64.b64encode(secret), base64.urlsafe_b64encode(secret)]


class DeviceFileTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.config = c.ConfigDir(Path(self.tmp.name))
        self.device = a_device()

    def tearDown(self):
        self.tmp.cleanup()

    def test_password_only(self):
        path = self.config.save(c.protect(self.device, "pw", "minimal", None))
        file = c.DeviceFile.load(path)
        self.assertIsNone(file.opaque_key_id)
        opened = file.unlock("pw", None)
        self.assertEqual(opened.signing_key.encode(), self.device.signing_key.encode())
        with self.assertRaises(c.Failure) as e:
            file.unlock("wrong", None)
        self.assertEqual(e.exception.code, c.EXIT_WRONG_PASSWORD)

    def test_mfa_needs_both_the_password_and_the_opaque_key(self):
        key_id, key = P.TOTPOpaqueKeyID.new(), P.SecretKey.generate()
        path = self.config.save(c.protect(self.device, "pw", "minimal", (key_id, key)))
        file = c.DeviceFile.load(path)
        self.assertEqual(file.opaque_key_id, key_id.hex)
        with self.assertRaises(c.Failure):
            file.unlock("pw", None)
        with self.assertRaises(c.Failure):
            file.unlock("pw", P.SecretKey.generate())
        with self.assertRaises(c.Failure) as e:
            file.unlock("wrong", key)
        self.assertEqual(e.exception.code, c.EXIT_WRONG_PASSWORD)
        self.assertEqual(file.unlock("pw", key).local_symkey.secret, self.device.local_symkey.secret)
        on_disk = path.read_bytes()
        for secret in (key.secret, self.device.signing_key.encode(), self.device.private_key.encode(),
                       self.device.local_symkey.secret):
            for form in encodings(secret):
                self.assertNotIn(form, on_disk)

    def test_device_list_and_find(self):
        self.config.save(c.protect(self.device, "pw", "minimal", None))
        self.assertEqual(self.config.find(self.device.device_id.hex[:6]).device_id, self.device.device_id.hex)
        self.assertEqual(self.config.find("alice@example.com").device_id, self.device.device_id.hex)
        with self.assertRaises(c.Failure):
            self.config.find("nobody")


class WorkspaceTests(unittest.TestCase):
    def test_round_trip_and_names_hidden(self):
        with tempfile.TemporaryDirectory() as tmp:
            ws = c.Workspace(Path(tmp) / "ws", P.SecretKey.generate())
            ws.write("secret-name.txt", b"hello")
            ws.write("b.txt", b"x")
            ws.write("secret-name.txt", b"hello\nagain")
            self.assertEqual(ws.names(), ["b.txt", "secret-name.txt"])
            self.assertEqual(ws.read("secret-name.txt"), b"hello\nagain")
            blobs = list((Path(tmp) / "ws").iterdir())
            self.assertEqual(len(blobs), 2)
            for blob in blobs:
                self.assertNotIn(b"secret-name", blob.read_bytes())
                self.assertNotIn(b"secret-name", blob.name.encode())
            ws.remove("b.txt")
            self.assertEqual(ws.names(), ["secret-name.txt"])
            with self.assertRaises(c.WorkspaceError):
                ws.remove("b.txt")
            other = c.Workspace(Path(tmp) / "ws", P.SecretKey.generate())
            with self.assertRaises(c.WorkspaceError):
                other.names()


class PromptOrderTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        config = c.ConfigDir(Path(self.tmp.name))
        self.key = P.SecretKey.generate()
        device = a_device()
        self.file = c.DeviceFile.load(config.save(c.protect(device, "pw", "minimal", (P.TOTPOpaqueKeyID.new(), self.key))))

    def tearDown(self):
        self.tmp.cleanup()

    def run_open(self, answers: str, fetch):
        stderr = io.StringIO()
        with mock.patch.object(sys, "stdin", io.StringIO(answers)), mock.patch.object(sys, "stderr", stderr), \
                mock.patch.object(c, "fetch_opaque_key", fetch):
            try:
                c.open_device(None, self.file, None, c.Input(True), enforce=False)
                failure = None
            except c.Failure as e:
                failure = e
        return stderr.getvalue(), failure

    def test_code_first_then_password(self):
        said, failure = self.run_open("123456\npw\n", lambda *a: self.key)
        self.assertIsNone(failure)
        self.assertLess(said.index("code"), said.index("Password"))

    def test_a_refused_code_asks_no_password(self):
        def refuse(*a):
            raise c.invalid_code()

        said, failure = self.run_open("000000\npw\n", refuse)
        self.assertEqual(failure.code, c.EXIT_INVALID_CODE)
        self.assertNotIn("Password", said)

    def test_the_password_first_defect(self):
        with mock.patch.dict(os.environ, {"PARSEC_PY_CLIENT_FAULT": "password-first"}):
            said, failure = self.run_open("pw\n123456\n", lambda *a: self.key)
        self.assertIsNone(failure)
        self.assertLess(said.index("Password"), said.index("code"))


class FormatTests(unittest.TestCase):
    def test_throttle_time_and_uri(self):
        at = P.DateTime.from_timestamp_micros(1_767_225_604_900_000)
        self.assertIn("2026-01-01 00:00:04", c.throttled(at).message)
        self.assertEqual(
            c.otpauth_uri(b"12345678901234567890", "My-Org"),
            "otpauth://totp/parsec.cloud:My%2DOrg?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=parsec.cloud",
        )


if __name__ == "__main__":
    unittest.main()
