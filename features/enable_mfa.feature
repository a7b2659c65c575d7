Feature: Enable multi-factor authentication from the profile
  In the profile's Authentication section, a user enables MFA: the app shows
  a QR code and a key for any TOTP authenticator app, and a 6-digit code from
  the app confirms it. From then on, logging in on this device needs the code.

  Background:
    Given an organization whose administrator is Alice

  @SECRET-1 @CONFIRM-1 @SECRET-2 @CODE-1
  Scenario: Alice enables MFA by scanning the QR code
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with the code from her authenticator app
    Then MFA is enabled on Alice's device
    And Alice's MFA section says MFA is set up

  @SECRET-4 @CONFIRM-1
  Scenario: Alice enables MFA by copying the key into her app
    When Alice opens the MFA section of her profile
    And Alice copies the key into her authenticator app
    And Alice confirms with the code from her authenticator app
    Then MFA is enabled on Alice's device

  @SECRET-4
  Scenario: The profile shows a 32-character key and a QR code for parsec.cloud
    When Alice opens the MFA section of her profile
    Then the MFA section shows a key of 32 characters and its QR code

  @CONFIRM-1 @CONFIRM-2
  Scenario: A wrong code does not enable MFA
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with a wrong code
    Then Alice is told the code is invalid
    And MFA is not enabled on Alice's device
    And Alice's MFA section offers to set MFA up

  @clock @SECRET-1
  Scenario: The key stays the same until MFA is confirmed
    When Alice opens the MFA section of her profile
    And 3600 seconds pass
    Then Alice's MFA section shows the same key as before

  @CONFIRM-2 @SECRET-1
  Scenario: Retrying after a wrong code works with the same key
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with a wrong code
    And Alice opens the MFA section of her profile
    And Alice confirms with the code from her authenticator app
    Then MFA is enabled on Alice's device
    And Alice's authenticator app has 1 entry

  @CODE-2
  Scenario: A phone clock 30 seconds behind still confirms
    Given Alice's phone clock is 30 seconds behind
    When Alice opens the MFA section of her profile
    And Alice scans the QR code with her authenticator app
    And Alice confirms with the code from her authenticator app
    Then MFA is enabled on Alice's device

  @CONFIRM-3
  Scenario: Confirming again once set up is refused as already set up
    Given Alice has enabled MFA
    When Alice confirms the setup again with the code from her authenticator app
    Then Alice is told MFA is already set up

  @DEV-1 @DEV-2
  Scenario: Once enabled, logging in needs the code and the password
    Given Alice has enabled MFA
    Then Alice's device cannot be opened with her password alone
    When Alice logs in with her password only
    Then Alice's login is refused because a code is needed

  @SECRET-2 @CREATE-1
  Scenario: A second device of Alice uses the same authenticator entry
    Given Alice has enabled MFA
    And Alice has a second device
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice enables MFA with the code from her authenticator app
    Then MFA is enabled on Alice's device
    And Alice's authenticator app has 1 entry
    And each of Alice's devices logs in with the code from her authenticator app

  @FETCH-1
  Scenario: A second device cannot be protected with a wrong code
    Given Alice has enabled MFA
    And Alice has a second device
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice confirms with a wrong code
    Then Alice is told the code is invalid
    And MFA is not enabled on Alice's device

  @SECRET-3
  Scenario: Each user has their own key
    Given Bob is a member of the organization
    And Alice has enabled MFA
    And Bob has enabled MFA
    Then Alice and Bob have different keys
