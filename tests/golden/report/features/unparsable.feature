Feature: A feature file cucumber cannot parse
  Scenarios named at the start of a description line make the parser fail:
  the report must show the file as failed.

  Scenario: Never run
    Given an organization whose administrator is Alice
