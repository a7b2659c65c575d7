Feature: A lost phone is recovered by the administrator's reset, and nothing is lost
  Without the authenticator app, a user cannot log in. A server
  administrator resets their MFA; an email brings a link (the user guide
  names its subject "Your MFA has been reset for <organization>"; the
  official server 3.9.3 sends "[Parsec] Your MFA has been reset for
  <organization>", which is what is checked); the link shows a new QR code; a code of the
  new entry confirms it; the same devices log in again, files intact.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA
    And Alice is logged in
    And Alice writes "Meeting at noon" in the file "notes.txt"
    And Alice loses her phone

  @CODE-1
  Scenario: Without the app Alice cannot log in
    When Alice logs in with a wrong code and her password
    Then Alice's login is refused because the code is invalid

  @RST-10 @RST-11
  Scenario: The reset email arrives with its link
    When the administrator resets Alice's MFA by email
    Then an email arrives for Alice
    # The user guide names the subject "Your MFA has been reset for
    # <organization>"; the official server prefixes it with "[Parsec] ".
    And its subject is "[Parsec] Your MFA has been reset for <organization>"
    And it contains the reset link

  @RST-2 @ANON-SECRET-1
  Scenario: The link shows a new QR code
    Given the administrator has reset Alice's MFA and the email has arrived
    When Alice opens the reset link from the email
    Then Alice sees a new QR code

  @RST-3 @ANON-CONFIRM-1 @DEV-3
  Scenario: Alice sets MFA up again and logs in on the same device, files intact
    Given the administrator has reset Alice's MFA and the email has arrived
    When Alice opens the reset link from the email
    And Alice scans the new QR code with her authenticator app
    And Alice confirms the reset with the code from her authenticator app
    Then Alice's reset is confirmed
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    And Alice reads "Meeting at noon" in the file "notes.txt"

  @FETCH-2 @RST-2
  Scenario: Until the reset is confirmed, Alice cannot log in
    Given the administrator has reset Alice's MFA and the email has arrived
    When Alice opens the reset link from the email
    And Alice scans the new QR code with her authenticator app
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because the code is invalid

  @ANON-CONFIRM-2 @ANON-CONFIRM-1
  Scenario: A wrong code on the reset link can be retried
    Given the administrator has reset Alice's MFA and the email has arrived
    When Alice opens the reset link from the email
    And Alice scans the new QR code with her authenticator app
    And Alice confirms the reset with a wrong code
    Then Alice is told the code is invalid
    When Alice confirms the reset with the code from her authenticator app
    Then Alice's reset is confirmed

  @RST-11 @ADM-7
  Scenario: The link in the administrator's output works too
    Given the administrator has reset Alice's MFA by email
    When Alice opens the reset link from the administrator's output
    And Alice scans the new QR code with her authenticator app
    And Alice confirms the reset with the code from her authenticator app
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
