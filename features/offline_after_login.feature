Feature: Offline after login; slow and intermittent connections
  The server is needed only to log in. Once logged in, files stay readable
  and writable without a connection. A slow or intermittent connection at
  login still works.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA
    And Alice is logged in
    And Alice writes "Draft 1" in the file "report.txt"

  @DEV-3
  Scenario: Files can be read when the connection goes
    When the connection goes down
    Then Alice reads "Draft 1" in the file "report.txt"

  @DEV-3
  Scenario: Files can be modified when the connection goes
    When the connection goes down
    And Alice writes "Draft 2" in the file "report.txt"
    And Alice writes "Ideas" in the file "ideas.txt"
    Then Alice reads "Draft 2" in the file "report.txt"
    And Alice's workspace lists "ideas.txt, report.txt"

  @DEV-3
  Scenario: Nothing written offline is lost at the next login
    When the connection goes down
    And Alice writes "Written offline" in the file "report.txt"
    And Alice logs out
    And the connection comes back
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    And Alice reads "Written offline" in the file "report.txt"

  @DEV-4
  Scenario: Logging in again while offline fails with a clear reason
    When Alice logs out
    And the connection goes down
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because the server cannot be reached

  @DEV-4
  Scenario: A slow connection at login still works
    When Alice logs out
    And the connection is slow, 150 ms each way
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @DEV-4
  Scenario: An intermittent connection at login still works
    When Alice logs out
    And the connection drops the next 2 connections
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    And the network dropped 2 connections

  @DEV-2
  Scenario: A password-only device logs in offline
    Given Bob is a member of the organization
    When the connection goes down
    And Bob logs in with his password only
    Then Bob is logged in
