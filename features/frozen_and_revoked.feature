Feature: A frozen or revoked user is turned away everywhere, even with a valid code
  A server administrator freezes a user through the administration API; an
  administrator of the organization revokes one. Either way the server
  refuses the user's devices (frozen: HTTP 462, revoked: 461), a login fails
  as if the code were wrong, and a reset link is refused. Unfreezing gives
  everything back as it was.

  The official server remembers for a while a device it has just let in,
  and learns of a freeze a moment after answering the administrator: these
  scenarios act from a device that has not talked to the server since (see
  features/README.md, known divergences).

  Background:
    Given an organization whose administrator is Alice
    And Bob is a member of the organization

  Scenario Outline: A frozen or revoked user cannot open the MFA section
    When the administrator <bars> Bob
    And Bob opens the MFA section of his profile
    Then Bob is refused because the account is <state>

    @FRZ-1
    Examples: frozen
      | bars    | state  |
      | freezes | frozen |

    @FRZ-4
    Examples: revoked
      | bars    | state   |
      | revokes | revoked |

  Scenario Outline: A frozen or revoked user cannot confirm MFA with a valid code
    Given Bob has a second device
    When Bob opens the MFA section of his profile
    And Bob scans the QR code with his authenticator app
    And the administrator <bars> Bob
    And Bob uses his second device
    And Bob confirms with the code from his authenticator app
    Then Bob is refused because the account is <state>
    And MFA is not enabled on Bob's device

    @FRZ-1
    Examples: frozen
      | bars    | state  |
      | freezes | frozen |

    @FRZ-4
    Examples: revoked
      | bars    | state   |
      | revokes | revoked |

  Scenario Outline: A frozen or revoked user cannot protect another device
    Given Bob has enabled MFA
    And Bob has a second device
    And Bob opens the MFA section of his profile
    When the administrator <bars> Bob
    And Bob uses his second device
    And Bob enables MFA with the code from his authenticator app
    Then Bob is refused because the account is <state>
    And MFA is not enabled on Bob's device

    @FRZ-1
    Examples: frozen
      | bars    | state  |
      | freezes | frozen |

    @FRZ-4
    Examples: revoked
      | bars    | state   |
      | revokes | revoked |

  Scenario Outline: A frozen or revoked user's reset link is refused
    Given Bob has enabled MFA
    And the administrator has reset Bob's MFA and the email has arrived
    When Bob opens the reset link from the email
    And Bob scans the new QR code with his authenticator app
    And the administrator <bars> Bob
    And Bob confirms the reset with the code from his authenticator app
    Then Bob is refused because the reset link is not valid
    When Bob opens the reset link from the email
    Then Bob is refused because the reset link is not valid

    @FRZ-3
    Examples: frozen
      | bars    | state  |
      | freezes | frozen |

    @FRZ-6
    Examples: revoked
      | bars    | state   |
      | revokes | revoked |

  @FRZ-3 @FRZ-7
  Scenario: Once unfrozen, the pending reset link works again
    What the official server does: freezing does not cancel the link.
    Given Bob has enabled MFA
    And the administrator has reset Bob's MFA and the email has arrived
    When Bob opens the reset link from the email
    And Bob scans the new QR code with his authenticator app
    And the administrator freezes Bob
    And Bob confirms the reset with the code from his authenticator app
    Then Bob is refused because the reset link is not valid
    When the administrator unfreezes Bob
    And Bob confirms the reset with the code from his authenticator app
    Then Bob's reset is confirmed

  @FETCH-6 @FRZ-7
  Scenario: Wrong codes while frozen do not lock the device; unfreezing gives it back
    Given Bob has enabled MFA
    And the administrator has frozen Bob
    When an attacker tries 3 wrong codes on Bob's device, each as soon as allowed
    And the administrator unfreezes Bob
    And Bob logs in with the code from his authenticator app and his password
    Then Bob is logged in
