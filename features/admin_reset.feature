Feature: The administrator resets a user's MFA
  `parsec-cli user totp-reset --addr … --token … --organization …
  (--user-id ID | --user-email EMAIL) [--send-email]` resets the user's MFA
  setup and prints the reset link; with `--send-email` the server emails it.

  Background:
    Given an organization whose administrator is Alice
    And Bob is a member of the organization
    And Bob has enabled MFA

  @ADM-7 @RST-10
  Scenario: Reset by email, without sending it
    When the administrator resets Bob's MFA by his email without --send-email
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """
    And no email is sent to Bob

  @ADM-7 @RST-10
  Scenario: Reset by user id, with --send-email
    When the administrator resets Bob's MFA by his user id with --send-email
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      An email with the reset URL has been sent to <email>
      """
    And an email arrives for Bob

  @RST-10 @ADM-7 @RST-2
  Scenario: Reset by user id, without sending it
    When the administrator resets Bob's MFA by his user id
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """
    And no email is sent to Bob
    When Bob opens the reset link from the administrator's output
    Then Bob sees a new QR code

  @ADM-5
  Scenario: An unknown email
    When the administrator resets the MFA of the email "nobody@example.com"
    Then the command fails with "User not found"

  @ADM-5
  Scenario: An unknown user id
    When the administrator resets the MFA of the user id "d51589e233c0451e9d2fa1c7b9a8b08b"
    Then the command fails with "User not found"

  @ADM-6
  Scenario: A revoked user, by user id
    Given the administrator has revoked Bob
    When the administrator resets Bob's MFA by his user id
    Then the command fails with "User has been revoked"

  @ADM-6
  Scenario: A revoked user, by email
    Given the administrator has revoked Bob
    When the administrator resets Bob's MFA by his email without --send-email
    Then the command fails with "User not found"

  @RST-12
  Scenario: A frozen user can be reset
    Given the administrator has frozen Bob
    When the administrator resets Bob's MFA by his user id
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """

  @ADM-4
  Scenario: Both a user id and an email
    When the administrator asks to reset Bob's MFA giving both his user id and email
    Then the server answers HTTP 400
    And the command fails with "Both `user_id` and `user_email` fields are provided"

  @ADM-4
  Scenario: Neither a user id nor an email
    When the administrator asks to reset an MFA giving neither a user id nor an email
    Then the server answers HTTP 400
    And the command fails with "Missing either `user_id` or `user_email` field"

  @ADM-1
  Scenario: A bad administration token
    When the administrator resets Bob's MFA with the token "not-the-token"
    Then the server answers HTTP 403
    And the command fails with "Bad authorization token"

  @ADM-5
  Scenario: A member of another organization cannot be reset through this one
    Given Mallory is the administrator of another organization on the same server
    When the administrator resets Mallory's MFA by her email in Alice's organization
    Then the server answers HTTP 404
    And the command fails with "User not found"

  @ADM-5
  Scenario: An unknown organization
    When the administrator resets Bob's MFA in the organization "NoSuchOrg"
    Then the server answers HTTP 404
    And the command fails with "Organization not found"

  @RST-6 @ANON-CONFIRM-1
  Scenario: The reset link works once
    Given Bob has set MFA up again from the reset link
    When Bob opens the reset link again
    Then Bob is told the reset link is no longer valid

  @RST-5 @RST-2
  Scenario: A second reset replaces the first link
    Given the administrator has reset Bob's MFA and the email has arrived
    When the administrator resets Bob's MFA by email
    And Bob opens the reset link from the administrator's output
    Then Bob sees a new QR code
    When Bob opens the reset link from the first email
    Then Bob is refused because the reset link is not valid

  @RST-5
  Scenario: A second reset cancels the first link
    Given the administrator has reset Bob's MFA and the email has arrived
    When the administrator resets Bob's MFA by email
    And Bob opens the reset link from the email
    Then Bob is refused because the reset link is not valid

  @RST-6 @CONFIRM-5
  Scenario: Setting MFA up again from a device still logged in cancels the link
    Bob's laptop is still logged in: instead of the link, he sets MFA up again
    from its profile page. The link in his mailbox is then worthless.
    Given the administrator has reset Bob's MFA and the email has arrived
    When Bob opens the MFA section of his profile
    And Bob scans the QR code with his authenticator app
    And Bob confirms with the code from his authenticator app
    Then MFA is enabled on Bob's device
    When Bob opens the reset link from the email
    Then Bob is refused because the reset link is not valid

  @RST-7 @ANON-SECRET-2
  Scenario: A reset link with a made-up token is refused
    Given the administrator has reset Bob's MFA by email
    When an attacker opens a reset link for Bob with a made-up token
    Then the attacker is refused because the reset link is not valid

  @RST-8
  Scenario: A user cannot turn his reset link into someone else's
    Carol's reset is pending too; Bob puts her user id in his own link.
    Given Carol is a member of the organization
    And the administrator has reset Carol's MFA by email
    And the administrator has reset Bob's MFA and the email has arrived
    When Bob opens the reset link from the email with Carol's user id put in it
    Then Bob is refused because the reset link is not valid

  @RST-9 @RST-6 @ANON-SECRET-1
  Scenario: Two devices using one reset link at the same time
    Given the administrator has reset Bob's MFA and the email has arrived
    When Bob opens the reset link from the email on two devices at the same time
    Then both devices show the same new QR code
    When Bob scans the new QR code with his authenticator app
    And Bob confirms the reset on both devices at the same time with the code from his authenticator app
    Then one device confirms the reset and the other is told the reset link is no longer valid

  @RST-1
  Scenario: The old authenticator's codes are refused after a reset
    Given Bob has set MFA up again from the reset link
    When Bob logs in with a code from his old authenticator entry
    Then Bob's login is refused because the code is invalid

  @clock @RST-4
  Scenario: A reset lifts a lockout
    When an attacker tries 5 wrong codes on Bob's device, each as soon as allowed
    And Bob sets MFA up again from the reset link
    And Bob logs in with the code from his authenticator app and his password
    Then Bob is logged in

  @RST-12
  Scenario: A user who never enabled MFA can be reset
    Given Carol is a member of the organization
    When the administrator resets Carol's MFA by her user id
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """
