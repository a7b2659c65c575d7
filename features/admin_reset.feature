Feature: The administrator resets a user's MFA
  `parsec-cli user totp-reset --addr … --token … --organization …
  (--user-id ID | --user-email EMAIL) [--send-email]` resets the user's MFA
  setup and prints the reset link; with `--send-email` the server emails it.

  Background:
    Given an organization whose administrator is Alice
    And Bob is a member of the organization
    And Bob has enabled MFA

  Scenario: Reset by email, without sending it
    When the administrator resets Bob's MFA by his email without --send-email
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """
    And no email is sent to Bob

  Scenario: Reset by user id, with --send-email
    When the administrator resets Bob's MFA by his user id with --send-email
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      An email with the reset URL has been sent to <email>
      """
    And an email arrives for Bob

  Scenario: Reset by user id, without sending it
    When the administrator resets Bob's MFA by his user id
    Then no email is sent to Bob

  Scenario: An unknown email
    When the administrator resets the MFA of the email "nobody@example.com"
    Then the command fails with "User not found"

  Scenario: An unknown user id
    When the administrator resets the MFA of the user id "d51589e233c0451e9d2fa1c7b9a8b08b"
    Then the command fails with "User not found"

  Scenario: A revoked user, by user id
    Given the administrator has revoked Bob
    When the administrator resets Bob's MFA by his user id
    Then the command fails with "User has been revoked"

  Scenario: A revoked user, by email
    Given the administrator has revoked Bob
    When the administrator resets Bob's MFA by his email without --send-email
    Then the command fails with "User not found"

  Scenario: A frozen user can be reset
    Given the administrator has frozen Bob
    When the administrator resets Bob's MFA by his user id
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """

  Scenario: Both a user id and an email
    When the administrator asks to reset Bob's MFA giving both his user id and email
    Then the server answers HTTP 400
    And the command fails with "Both `user_id` and `user_email` fields are provided"

  Scenario: Neither a user id nor an email
    When the administrator asks to reset an MFA giving neither a user id nor an email
    Then the server answers HTTP 400
    And the command fails with "Missing either `user_id` or `user_email` field"

  Scenario: A bad administration token
    When the administrator resets Bob's MFA with the token "not-the-token"
    Then the server answers HTTP 403
    And the command fails with "Bad authorization token"

  Scenario: An unknown organization
    When the administrator resets Bob's MFA in the organization "NoSuchOrg"
    Then the server answers HTTP 404
    And the command fails with "Organization not found"

  Scenario: The reset link works once
    Given the administrator has reset Bob's MFA by email
    Then an email arrives for Bob
    When Bob opens the reset link from the email
    And Bob scans the new QR code with his authenticator app
    And Bob confirms the reset with the code from his authenticator app
    And Bob opens the reset link again
    Then Bob is told the reset link is no longer valid

  Scenario: A second reset replaces the first link
    Given the administrator has reset Bob's MFA by email
    Then an email arrives for Bob
    When the administrator resets Bob's MFA by email
    And Bob opens the reset link from the administrator's output
    Then Bob sees a new QR code

  Scenario: The old authenticator's codes are refused after a reset
    Given the administrator has reset Bob's MFA by email
    Then an email arrives for Bob
    When Bob opens the reset link from the email
    And Bob scans the new QR code with his authenticator app
    And Bob confirms the reset with the code from his authenticator app
    And Bob logs in with a code from his old authenticator entry
    Then Bob's login is refused because the code is invalid

  @clock
  Scenario: A reset lifts a lockout
    When an attacker tries 5 wrong codes on Bob's device, each as soon as allowed
    And the administrator resets Bob's MFA by email
    Then an email arrives for Bob
    When Bob opens the reset link from the email
    And Bob scans the new QR code with his authenticator app
    And Bob confirms the reset with the code from his authenticator app
    And Bob logs in with the code from his authenticator app and his password
    Then Bob is logged in

  Scenario: A user who never enabled MFA can be reset
    Given Carol is a member of the organization
    When the administrator resets Carol's MFA by her user id
    Then the command prints:
      """
      TOTP reset for user <user id>
      Reset URL: <reset url>
      """
