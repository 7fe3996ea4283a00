//! The contracts of transactions, settings and stored procedures.

use std::future::Future;

use pg_exceptions::Error;
use postgres_types::Type;

use crate::Params;

/// A transaction block, or a savepoint when started inside one (py-postgresql's `xact`).
///
/// Starting a finished transaction is an OperationError; committing or rolling back twice does
/// nothing; committing a block whose work failed rolls it back and returns
/// InFailedTransactionError. Dropping a started, unfinished one rolls it back.
pub trait Transaction: Clone + Send + Sync {
    /// Starts the block (START TRANSACTION …) or the savepoint.
    fn start(&self) -> impl Future<Output = Result<(), Error>> + Send;
    /// Commits the block, or releases the savepoint.
    fn commit(&self) -> impl Future<Output = Result<(), Error>> + Send;
    /// Rolls the block back, or rolls back to the savepoint and releases it.
    fn rollback(&self) -> impl Future<Output = Result<(), Error>> + Send;
    /// The isolation level asked for, if any.
    fn isolation_level(&self) -> Option<String>;
    /// Whether it is a savepoint: None until started.
    fn is_savepoint(&self) -> Option<bool>;
}

/// The session's settings as a mapping (py-postgresql's `settings`).
pub trait Settings: Clone + Send + Sync {
    /// A setting's value; None when the server knows no such setting.
    fn get(&self, name: &str) -> impl Future<Output = Result<Option<String>, Error>> + Send;
    /// Sets a setting for the session (set_config; name and value are parameters).
    fn set(&self, name: &str, value: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// Returns a setting to its default (RESET).
    fn reset(&self, name: &str) -> impl Future<Output = Result<(), Error>> + Send;
    /// Every setting's name.
    fn keys(&self) -> impl Future<Output = Result<Vec<String>, Error>> + Send;
    /// Whether the server knows the setting.
    fn contains(&self, name: &str) -> impl Future<Output = Result<bool, Error>> + Send;
    /// A value the server reports through ParameterStatus, read without a query.
    fn reported(&self, name: &str) -> Option<String>;
}

/// A function or procedure of the database (py-postgresql's `proc`).
pub trait StoredProcedure: Clone + Send + Sync {
    /// What calling it gives: a value, a row, or streams of them.
    type Output;
    /// The regprocedure text identifying it (`public.foo(integer,text)`).
    fn procedure_id(&self) -> &str;
    /// Its argument types.
    fn input_types(&self) -> Vec<Type>;
    /// Whether it returns a set.
    fn srf(&self) -> bool;
    /// Whether it returns a composite (or several OUT parameters).
    fn composite(&self) -> bool;
    /// Calls it; the argument count and types are checked first.
    fn call<P: Params + Send>(
        &self,
        params: P,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send;

    /// Calls it with arguments by name after any given by position; arguments with
    /// defaults may be left out.
    fn call_named<P: Params + Send>(
        &self,
        positional: P,
        named: &[(&str, &(dyn postgres_types::ToSql + Sync))],
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send;
}
