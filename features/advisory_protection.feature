@advice
Feature: The server administrator advises device protections
  `parsec run --advisory-device-file-protection PASSWORD+TOTP …` tells
  clients which protections to use. Only the `+TOTP` variants make MFA
  mandatory; the advice is part of the server configuration.

  @ADV-2 @CLIENT-8 @client
  Scenario: PASSWORD+TOTP advised: a password-only login is refused
    Given the server administrator advises "PASSWORD+TOTP"
    And an organization whose administrator is Alice
    When Alice logs in with her password only
    Then Alice's login is refused because MFA is required

  @ADV-2
  Scenario: PASSWORD+TOTP advised: after enabling MFA, the login works
    Given the server administrator advises "PASSWORD+TOTP, PKI"
    And an organization whose administrator is Alice
    And Alice has enabled MFA
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @ADV-2 @CLIENT-8 @client
  Scenario: PASSWORD advised: MFA is optional
    Given the server administrator advises "PASSWORD, PASSWORD+TOTP"
    And an organization whose administrator is Alice
    When Alice logs in with her password only
    Then Alice is logged in

  @ADV-3
  Scenario: Only other methods advised: passwords are not allowed
    Given the server administrator advises "PKI+TOTP, KEYRING"
    And an organization whose administrator is Alice
    When Alice logs in with her password only
    Then Alice's login is refused because passwords are not allowed

  @ADV-1
  Scenario: The advice is visible in the server configuration
    Given the server administrator advises "PASSWORD+TOTP, PKI"
    When a client asks the server for its configuration
    Then the configuration advises "PASSWORD+TOTP, PKI"

  @ADV-1 @ADV-2
  Scenario: Without advice the configuration advises nothing and MFA is optional
    Given an organization whose administrator is Alice
    When a client asks the server for its configuration
    Then the configuration advises nothing
    When Alice logs in with her password only
    Then Alice is logged in
