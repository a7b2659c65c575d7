//! Model-based exploration (issue 23), first pieces: the operations of the
//! MFA lifecycle drawn from a seed, and the normalized observations two
//! servers are compared on. The lockstep runner, shrinking, the Gherkin
//! writer and the `parsec-mfa explore` command are not built yet.

pub mod observation;
pub mod operations;
