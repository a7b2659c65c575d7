Feature: Guessing codes is slowed down, per opaque key
  After n wrong codes on a device's opaque key, the next attempt is refused
  as `throttled` until 2^(n-1) seconds after the last wrong code (that
  instant included). A `throttled` answer does not count. A right code, or
  an administrator's reset, clears it. Other keys are not affected.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA

  @THR-1 @THR-7
  Scenario Outline: The wait doubles with each wrong code
    When an attacker tries <failures> wrong codes on Alice's device, each as soon as allowed
    Then the next attempt on Alice's device must wait until <wait> seconds after the last wrong code

    Examples: waits of seconds, for real where the clock cannot be moved
      | failures | wait |
      | 1        | 1    |
      | 2        | 2    |

    @clock
    Examples: longer waits
      | failures | wait |
      | 3        | 4    |
      | 4        | 8    |
      | 5        | 16   |
      | 10       | 512  |

  @clock @THR-2
  Scenario: Twenty wrong codes lock the device for about six days
    When an attacker tries 20 wrong codes on Alice's device, each as soon as allowed
    Then the lockout of Alice's device lasts about 6 days

  @exact-clock @THR-3
  Scenario: The end of the wait is included
    When an attacker tries a wrong code on Alice's device
    And time reaches 1 second after the last wrong code
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because of too many attempts
    When one more microsecond passes
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @THR-4
  Scenario: A right code during the wait is refused too
    When an attacker tries a wrong code on Alice's device
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because of too many attempts
    And Alice must wait until 1 second after the last wrong code

  @THR-5
  Scenario: Throttled answers do not count
    Only the wrong codes answered "invalid_one_time_password" set the wait:
    one here, unless a slow server answers an attempt after the wait is over.
    When an attacker tries a wrong code on Alice's device
    And the attacker keeps trying wrong codes on Alice's device until 2 are answered "throttled"
    Then the wait the server announces counts only the wrong codes answered "invalid_one_time_password"

  @clock @THR-6
  Scenario: A right code clears the count
    When an attacker tries 3 wrong codes on Alice's device, each as soon as allowed
    And 5 seconds pass
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    When an attacker tries a wrong code on Alice's device
    Then the next attempt on Alice's device must wait until 1 second after the last wrong code

  @THR-8 @CREATE-1
  Scenario: Another device of the same user is not affected
    Given Alice has a second device
    And Alice uses her second device
    And Alice opens the MFA section of her profile
    And Alice enables MFA with the code from her authenticator app
    When Alice uses her first device
    And an attacker tries 3 wrong codes on Alice's device, each as soon as allowed
    And Alice uses her second device
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @clock @THR-9
  Scenario: Wrong codes sent at the same time are all accounted for
    Each burst of simultaneous codes leaves when the previous wait is over:
    exactly one code of each must be counted, the others refused. A store
    that loses concurrent updates does so only when requests interleave;
    ten bursts give it ten chances to show.
    When an attacker tries 12 wrong codes on Alice's device at once, 10 times, each time the wait is over
    Then each time, 1 attempt was answered "invalid_one_time_password" and 11 "throttled"
    And the next attempt on Alice's device must wait until 512 seconds after the last wrong code
