Feature: Log in with MFA: the code first, then the password
  On a device protected by MFA, the login asks for the 6-digit code of the
  authenticator app, then the password. The server accepts the codes of the
  previous, current and next 30-second step.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA

  Scenario: Alice logs in with her code and her password
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  Scenario: A wrong code is refused
    When Alice logs in with a wrong code and her password
    Then Alice's login is refused because the code is invalid

  Scenario: A right code and a wrong password are refused
    When Alice logs in with the code from her authenticator app and a wrong password
    Then Alice's login is refused because the password is wrong

  Scenario: A code that is not six digits is refused
    When Alice logs in with the code "ABCDEF" and her password
    Then Alice's login is refused because the code is invalid

  Scenario Outline: The phone's clock may be off by one step
    Given Alice's phone clock is <seconds> seconds <direction>
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

    Examples:
      | seconds | direction |
      | 30      | behind    |
      | 30      | ahead     |
      | 29      | behind    |

  Scenario Outline: The phone's clock off by two steps is refused
    Given Alice's phone clock is <seconds> seconds <direction>
    When Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because the code is invalid

    Examples:
      | seconds | direction |
      | 60      | behind    |
      | 60      | ahead     |

  Scenario: The same code works twice within its step
    When Alice logs in with the code from her authenticator app and her password
    And Alice logs out
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  Scenario: Without the code the MFA device does not open
    When Alice logs in with her password only
    Then Alice's login is refused because a code is needed

  Scenario: A device without MFA logs in with the password alone
    Given Bob is a member of the organization
    When Bob logs in with his password only
    Then Bob is logged in

  Scenario: A frozen user cannot log in with MFA
    Given Bob is a member of the organization
    And Bob has enabled MFA
    And the administrator has frozen Bob
    When Bob logs in with the code from his authenticator app and his password
    Then Bob's login is refused because the code is invalid

  Scenario: A revoked user cannot log in with MFA
    Given Bob is a member of the organization
    And Bob has enabled MFA
    And the administrator has revoked Bob
    When Bob logs in with the code from his authenticator app and his password
    Then Bob's login is refused because the code is invalid
