# Scenarios `parsec-mfa explore` wrote, kept as they were written: each is
# a divergence exploration found on a deliberate defect, shrunk, and
# checked by the tool (it failed on the defect and passed on the
# reference) before it was printed. Their steps are the explorer's
# operations (scenarios/src/steps/explore.rs), each with what the
# reference model saw of it.
Feature: Divergences found by exploration

  # Written by `parsec-mfa explore --target in-process --inject-fault reset-token-of-any-user --seed 1 --time 20`
  # (sequence seed 4, 40 operations shrunk to 3). The reference model saw
  # {"kind":"bad_token"} where the defect saw {"kind":"invalid_code"}: another
  # user's pending token opened this user's link.
  @RST-8 @explore
  Scenario: confirm-reset sees bad_token after 2 operations (seed 4)
    Given the explorer's first organization
    When the explorer does `reset user=0 by-email=false send-email=false` and sees `{"kind":"reset","email_status":"NOT_SENT_AS_REQUESTED","email_to":null,"link_in_email":false}`
    And the explorer does `new-user org=0` and sees `{"kind":"ok"}`
    And the explorer does `confirm-reset user=1 link=other-users code=right` and sees `{"kind":"bad_token"}`
