Feature: The administration guide's MFA examples, as executable specifications
  The hosting guide's page on user authentication
  (admin-guide-user-authentication.txt) gives two examples: the server's
  advisory flags, and the MFA setup reset by email. Their lines are quoted
  as written (features/guides/admin-guide-user-authentication.quotes); the
  command runs through the real `parsec-mfa` binary in place of
  `parsec-cli`, with only the server's address, the administration token
  and the organization replaced by the target's. In the output, the
  example's user id and the link's `...` stand for the real ones, and the
  server's address for its own (with `no_ssl=true` when it has no TLS).

  @ADM-7 @RST-10 @RST-11 @guide
  Scenario: Reset by email address, as the guide types it
    Given an organization whose administrator is Alice, whose email is "alice@example.com"
    And Alice has enabled MFA
    When the administrator runs, as quoted from admin-guide-user-authentication.txt:
      """
      parsec-cli user totp-reset --addr parsec3://example.com --token s3cr3t --organization MyOrganization --user-email alice@example.com --send-email
      """
    Then the command prints, as quoted from admin-guide-user-authentication.txt:
      """
      TOTP reset for user 940a380aedd44127863d952a66cfce1e
      Reset URL: parsec3://example.com/MyOrganization?a=totp_reset&p=...
      An email with the reset URL has been sent to alice@example.com
      """
    And an email arrives for Alice
    # The user guide names the subject "Your MFA has been reset for
    # <organization>"; the official server prefixes it with "[Parsec] ".
    And its subject is "[Parsec] Your MFA has been reset for <organization>"
    And the email's link is the reset URL the command printed
    When Alice opens the reset link from the email
    Then Alice sees a new QR code

  @ADM-5
  Scenario: An unknown user is reported as the server says it
    Given an organization whose administrator is Alice
    When the administrator resets the MFA of the email "unknown@example.com"
    Then the command fails with "User not found"

  @advice @ADV-1 @ADV-2 @guide
  Scenario: --advisory-device-file-protection PASSWORD+TOTP makes MFA mandatory
    Given the server is started with the flags, as quoted from admin-guide-user-authentication.txt:
      """
      --advisory-device-file-protection PASSWORD+TOTP \
      --advisory-device-file-protection PKI
      """
    And an organization whose administrator is Alice
    When a client asks the server for its configuration
    Then the configuration advises "PASSWORD+TOTP, PKI"
    When Alice logs in with her password only
    Then Alice's login is refused because MFA is required
