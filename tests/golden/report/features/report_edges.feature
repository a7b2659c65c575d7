Feature: Report edge cases: <names> & "quotes" in a feature's name
  For the report alone (tests/report_golden.rs): an undefined step, two
  plain scenarios of one name, a Rule, and a Rule's scenario the runner
  skips. Nothing here is about Parsec.

  Scenario: A step nobody wrote
    Given an organization whose administrator is Alice
    When Alice dances "the <tango>" & more

  Scenario: Twice the same name
    Given an organization whose administrator is Alice

  Scenario: Twice the same name
    Given an organization whose administrator is Bob

  Rule: Bob's rules
    Scenario: Bob's organization
      Given an organization whose administrator is Bob

    @clock
    Scenario: Bob's clock moves
      Given an organization whose administrator is Bob
      When 5 seconds pass
