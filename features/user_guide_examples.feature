Feature: The user guide's MFA page, as executable examples

  Background:
    Given an organization whose administrator is Alice

  @CONFIRM-1 @DEV-2 @guide
  Scenario: Enable MFA, log out, log in with the code first and then the password
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with the code from her authenticator app
    And Alice logs out
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @CREATE-1 @SECRET-2 @SECRET-5 @guide
  Scenario: One authenticator entry serves every device of the organization
    Given Alice has a second device
    And Alice has enabled MFA
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice enables MFA with the code from her authenticator app
    Then Alice's authenticator app has 1 entry
    And each of Alice's devices logs in with the code from her authenticator app

  @SECRET-5 @SECRET-3
  Scenario: Another organization of the same person has its own authenticator entry
    The guide's entry serves the devices "in this organization": Alice's
    account in a second organization on the server is another user, with
    a secret and an entry of its own.
    Given Alice has enabled MFA
    And Alice has a second device, in another organization on the same server
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with the code from her authenticator app
    Then Alice's authenticator app has 2 entries
    And Alice's entries hold different keys
    And each of Alice's devices logs in with the code from her authenticator app

  @DEV-5 @DEV-2 @password-only
  Scenario: A device of the same user without MFA logs in with the password alone
    The entry serves the devices "you protect with MFA": a device Alice
    did not protect asks no code.
    Given Alice has a second device
    And Alice has enabled MFA
    When Alice uses her second device
    And Alice logs in with her password only
    Then Alice is logged in
    And MFA is not enabled on Alice's device
    And Alice's authenticator app has 1 entry

  @RST-3 @DEV-3 @guide
  Scenario: After a reset every device works with the new entry and nothing is lost
    Given Alice has a second device
    And Alice has enabled MFA
    And Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice enables MFA with the code from her authenticator app
    And Alice is logged in
    And Alice writes "Shared plan" in the file "plan.txt"
    When Alice loses her phone
    And the administrator resets Alice's MFA by email
    Then an email arrives for Alice
    When Alice opens the reset link from the email
    And Alice scans the new QR code with her authenticator app
    And Alice confirms the reset with the code from her authenticator app
    Then each of Alice's devices logs in with the code from her authenticator app
    When Alice uses her second device
    And Alice logs in with the code from her authenticator app and her password
    Then Alice reads "Shared plan" in the file "plan.txt"

  @DEV-3
  Scenario: The server is needed only at login
    Given Alice has enabled MFA
    And Alice is logged in
    When the connection goes down
    And Alice writes "Offline notes" in the file "notes.txt"
    Then Alice reads "Offline notes" in the file "notes.txt"

  @DEV-6 @DEV-2 @guide
  Scenario: parsec-mfa login asks the code first, then the password
    The guide's login: Parsec asks the 6-digit code from the authenticator
    app, then the usual credential. Through the real binary, typed in.
    Given Alice has enabled MFA
    When Alice runs parsec-mfa login and types the code from her authenticator app, then her password
    Then the command asks for the code, then for the password
    And the command says Alice is logged in

  @DEV-6 @CODE-1 @guide
  Scenario: parsec-mfa login asks no password when the code is refused
    Given Alice has enabled MFA
    When Alice runs parsec-mfa login and types a wrong code, then her password
    Then the command asks for the code only
    And the command fails with the message "The code you entered is invalid. Please try again."
