Feature: The user guide's MFA page, as executable examples

  Background:
    Given an organization whose administrator is Alice

  @CONFIRM-1 @DEV-2
  Scenario: Enable MFA, log out, log in with the code first and then the password
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with the code from her authenticator app
    And Alice logs out
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @CREATE-1 @SECRET-2
  Scenario: One authenticator entry serves every device of the organization
    Given Alice has a second device
    And Alice has enabled MFA
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice enables MFA with the code from her authenticator app
    Then Alice's authenticator app has 1 entry
    And each of Alice's devices logs in with the code from her authenticator app

  @RST-3 @DEV-3
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
