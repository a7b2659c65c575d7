Feature: Nobody but the user opens the user's keys
  The server releases a device's opaque key only for a valid code of its
  owner's authenticator entry. Another member of the organization, a member
  of another organization on the same server, someone with a copy of the
  device file but not the phone: whatever they try, they get nothing.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA

  @FETCH-3 @FETCH-7
  Scenario: Another member cannot open Alice's key with his own code
    Bob has MFA of his own, and a copy of Alice's device file, which names
    the opaque key it needs.
    Given Bob is a member of the organization
    And Bob has enabled MFA
    When Bob asks for the key of Alice's device with his own code
    Then Bob is refused because the code is invalid
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @FETCH-4
  Scenario: A member of another organization cannot open Alice's key with her own code
    Given Mallory is the administrator of another organization on the same server
    And Mallory has enabled MFA
    When Mallory asks for the key of Alice's device with her own code
    Then Mallory is refused because the code is invalid
    When Mallory asks Alice's organization for the key of her device with her own code
    Then Mallory is refused because the code is invalid

  @FETCH-4
  Scenario: Taking Alice's user id in another organization opens none of her keys
    User ids are chosen by the app that creates the user: Mallory
    bootstraps her own organization with Alice's user id as hers.
    Given Mallory bootstraps another organization on the same server, taking Alice's user id as her own
    And Mallory has enabled MFA
    When Mallory asks for the key of Alice's device with her own code
    Then Mallory is refused because the code is invalid

  @HS-7
  Scenario: Taking Alice's user id in another organization does not make one Alice
    Given Mallory bootstraps another organization on the same server, taking Alice's user id as her own
    When Mallory uses her device to open the MFA section in Alice's organization
    Then Mallory is refused because the device is unknown there

  @CREATE-2 @DEV-1
  Scenario: Another member's own opaque key does not open Alice's device file
    Bob knows Alice's password and has a copy of her device file, but not
    her phone.
    Given Bob is a member of the organization
    And Bob has enabled MFA
    When Bob tries the key his own code opens on a copy of Alice's device file, knowing its password
    Then Bob cannot open the device file

  @FETCH-5 @FETCH-6
  Scenario: Made-up key ids open nothing, even with Alice's code
    An attacker watched Alice type a code, but has no copy of her device file.
    When an attacker who saw Alice's code tries it with 5 made-up key ids
    Then the attacker is refused because the code is invalid
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @HS-8
  Scenario: A request signed with another key than the device's is refused
    Bob has opened the MFA section but not confirmed yet: his new key is
    what the attacker is after.
    Given Bob is a member of the organization
    And Bob opens the MFA section of his profile
    When an attacker who knows Bob's device id signs a request with a key of his own
    Then the attacker is refused because the signature is wrong

  @HS-9
  Scenario: A request captured and replayed ten minutes later is refused
    Given Bob is a member of the organization
    And Bob opens the MFA section of his profile
    When an attacker replays a request Bob's device signed 10 minutes ago
    Then the attacker is refused because the request is too old

  @ADM-3
  Scenario: An organization in use cannot be created again
    Nobody takes the organization over by getting a new bootstrap link.
    When the administrator creates Alice's organization again
    Then the server answers HTTP 400
    And the command fails with "Organization already exists"
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
