@client
Feature: What a client must do with MFA, as a person sees it
  These scenarios judge the client, not the server: the order of its
  questions, what it says when it refuses, how it rides out the network,
  what it leaves on disk. They drive the client through the client
  contract (docs/porting-a-client.md) only: with `--client cmd=…` the
  client under test, otherwise the reference client's binary.

  Background:
    Given an organization whose administrator is Alice
    And Alice has enabled MFA

  @CLIENT-1
  Scenario: The code is asked before the password
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    And Alice was asked for the code, then for her password

  @CLIENT-1
  Scenario: No password is asked once the code is refused
    When Alice logs in with a wrong code and her password
    Then Alice's login is refused because the code is invalid
    And Alice was not asked for her password

  @CLIENT-2 @CLIENT-3 @exact-clock
  Scenario: A wrong code is sent once, and the wait shown is the server's
    When Alice logs in with a wrong code and her password
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because of too many attempts
    And Alice must wait until 1 second after the last wrong code

  @CLIENT-2
  Scenario: An unreachable server is told apart from a refused code
    When the connection goes down
    And Alice logs in with the code from her authenticator app and her password
    Then Alice's login is refused because the server cannot be reached

  @CLIENT-3
  Scenario: A connection that drops at login is retried
    When the connection drops the next 2 connections
    And Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in

  @CLIENT-4
  Scenario: Offline after login: read, write, a new file, all there at the next login
    Given Alice is logged in
    And Alice writes "Draft 1" in the file "report.txt"
    When the connection goes down
    Then Alice reads "Draft 1" in the file "report.txt"
    When Alice writes "Draft 2" in the file "report.txt"
    And Alice writes "Ideas" in the file "ideas.txt"
    And Alice logs out
    And the connection comes back
    And Alice logs in with the code from her authenticator app and her password
    Then Alice reads "Draft 2" in the file "report.txt"
    And Alice's workspace lists "ideas.txt, report.txt"

  @CLIENT-5
  Scenario: A stolen laptop and its password open nothing without a valid code
    Given Alice is logged in
    And Alice writes "Secret plans" in the file "plans.txt"
    And Alice logs out
    Then no file of Alice's computer holds her authenticator key or the key the server released
    When Mallory copies Alice's computer and learns her password
    Then Mallory cannot open Alice's device without a valid code
    When the connection goes down
    Then Mallory cannot open Alice's device without a valid code

  @CLIENT-6
  Scenario: A second device shows no new key: the same authenticator entry serves
    Given Alice has a second device
    When Alice uses her second device
    And Alice opens the MFA section of her profile
    Then Alice's MFA section shows no key
    When Alice enables MFA with the code from her authenticator app
    Then MFA is enabled on Alice's device
    And Alice's authenticator app has 1 entry

  @CLIENT-7
  Scenario: A reset keeps the device and its files
    Given Alice is logged in
    And Alice writes "Draft" in the file "report.txt"
    And Alice logs out
    And Alice lost her phone
    And Alice has set MFA up again from the reset link
    When Alice logs in with the code from her authenticator app and her password
    Then Alice is logged in
    And Alice reads "Draft" in the file "report.txt"

  @CLIENT-9
  Scenario: The QR code reads as the URI printed beside it
    Given Bob is a member of the organization
    When Bob opens the MFA section of his profile
    Then Bob's QR code reads as the URI shown beside it
    And the MFA section shows a key of 32 characters and its QR code
