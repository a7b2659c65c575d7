Feature: Log in with MFA: the code first, then the password
  On a device protected by MFA, the login asks for the 6-digit code of the
  authenticator app, then the password. The server accepts the codes of the
  previous, current and next 30-second step.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA

  @FETCH-1 @DEV-2
  Scenario: Alice logs in with her code and her password
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @CODE-1 @FETCH-7
  Scenario: A wrong code is refused
    When Alice logs in with a wrong code and her password
    Then Alice's login is refused because the code is invalid

  @DEV-1
  Scenario: A right code and a wrong password are refused
    When Alice logs in with the code from her authenticator app and a wrong password
    Then Alice's login is refused because the password is wrong

  @CODE-3
  Scenario: A code that is not six digits is refused
    When Alice logs in with the code "ABCDEF" and her password
    Then Alice's login is refused because the code is invalid

  @CODE-3
  Scenario: An empty code is refused
    When Alice logs in with the code "" and her password
    Then Alice's login is refused because the code is invalid

  @CODE-2
  Scenario Outline: The phone's clock may be off by one step
    Given Alice's phone clock is <seconds> seconds <direction>
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

    Examples:
      | seconds | direction |
      | 30      | behind    |
      | 30      | ahead     |
      | 29      | behind    |

  @CODE-2
  Scenario Outline: The phone's clock off by two steps is refused
    Given Alice's phone clock is <seconds> seconds <direction>
    When Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because the code is invalid

    Examples:
      | seconds | direction |
      | 60      | behind    |
      | 60      | ahead     |

  @CODE-4
  Scenario: The same code works twice within its step
    What the official server does: a code is not used up by a login, it
    stays valid for its whole window (see the README's security notes).
    When Alice logs in with the code from her authenticator app and her password
    And Alice logs out
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @DEV-1 @DEV-2
  Scenario: Without the code the MFA device does not open
    When Alice logs in with her password only
    Then Alice's login is refused because a code is needed

  @DEV-2 @password-only
  Scenario: A device without MFA logs in with the password alone
    Given Bob is a member of the organization
    When Bob logs in with his password only
    Then Bob is logged in

  @FRZ-2
  Scenario: A frozen user cannot log in with MFA
    Given Bob is a member of the organization
    And Bob has enabled MFA
    And the administrator has frozen Bob
    When Bob logs in with the code from his authenticator app and his password
    Then Bob's login is refused because the code is invalid

  @FRZ-5
  Scenario: A revoked user cannot log in with MFA
    Given Bob is a member of the organization
    And Bob has enabled MFA
    And the administrator has revoked Bob
    When Bob logs in with the code from his authenticator app and his password
    Then Bob's login is refused because the code is invalid
