Feature: The administration guide's MFA examples, as executable specifications

  @ADM-7 @RST-10
  Scenario: user totp-reset --send-email prints three lines and sends the email
    Given an organization whose administrator is Alice
    And Alice has enabled MFA
    When the administrator resets Alice's MFA by her user id with --send-email
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      An email with the reset URL has been sent to <email>
      """
    And an email arrives for Alice
    And its subject is "[Parsec] Your MFA has been reset for <organization>"
    And it contains the reset link

  @ADM-5
  Scenario: An unknown user is reported as the server says it
    Given an organization whose administrator is Alice
    When the administrator resets the MFA of the email "unknown@example.com"
    Then the command fails with "User not found"

  @advice @ADV-1 @ADV-2
  Scenario: --advisory-device-file-protection PASSWORD+TOTP makes MFA mandatory
    Given the server administrator advises "PASSWORD+TOTP"
    And an organization whose administrator is Alice
    When a client asks the server for its configuration
    Then the configuration advises "PASSWORD+TOTP"
    When Alice logs in with her password only
    Then Alice's login is refused because MFA is required
