//! The pg-api contracts on the blocking facade.
//!
//! pg-api's methods return futures; the blocking objects' futures do their work, blocking,
//! when first polled, and are ready then. Drive them with a plain executor
//! (`futures::executor::block_on`) outside any tokio runtime: inside one the blocking
//! facade refuses to run (an OperationError), as it always does. The blocking facade
//! implements [`Database`](pg_api::Database) and the objects it hands out; connecting stays
//! [`Connector::connect`](super::Connector::connect).

use std::time::Duration;

use pg_exceptions::{Error, Message};
use pg_types::Row;
use postgres_types::{ToSql, Type};

use super::{
    Connection, Cursor, Notifications, ProcResult, Settings, Statement, StoredProcedure,
    Transaction,
};
use crate::{Direction, Params, TransactionStatus, VersionInfo, Whence};

impl pg_api::Database for Connection {
    type Statement = Statement;
    type Cursor = Cursor;
    type Transaction = Transaction;
    type Settings = Settings;
    type StoredProcedure = StoredProcedure;
    type Notifications = Notifications;

    async fn prepare(&self, sql: &str) -> Result<Statement, Error> {
        Connection::prepare(self, sql)
    }

    async fn statement_from_id(&self, name: &str) -> Result<Statement, Error> {
        Connection::statement_from_id(self, name)
    }

    async fn cursor_from_id(&self, name: &str) -> Result<Cursor, Error> {
        Connection::cursor_from_id(self, name)
    }

    async fn proc(&self, id: &str) -> Result<StoredProcedure, Error> {
        Connection::proc(self, id)
    }

    fn xact(&self, isolation: Option<&str>, mode: Option<&str>) -> Transaction {
        Connection::xact_with(self, isolation, mode)
    }

    fn settings(&self) -> Settings {
        Connection::settings(self)
    }

    async fn listen(&self, channels: &[&str]) -> Result<(), Error> {
        Connection::listen(self, channels)
    }

    async fn unlisten(&self, channels: &[&str]) -> Result<(), Error> {
        Connection::unlisten(self, channels)
    }

    async fn notify(&self, notifications: &[(&str, &str)]) -> Result<(), Error> {
        Connection::notify(self, notifications.iter().copied())
    }

    fn iternotifies(&self, timeout: Option<Duration>) -> Result<Notifications, Error> {
        Connection::iternotifies(self, timeout)
    }

    async fn execute(&self, sql: &str) -> Result<(), Error> {
        Connection::execute(self, sql)
    }

    async fn do_(&self, language: &str, source: &str) -> Result<(), Error> {
        Connection::do_(self, language, source)
    }

    async fn reset(&self) -> Result<(), Error> {
        Connection::reset(self)
    }

    async fn interrupt(&self) -> Result<(), Error> {
        Connection::interrupt(self)
    }

    fn backend_id(&self) -> Option<i32> {
        Connection::backend_id(self)
    }

    async fn version(&self) -> Result<String, Error> {
        Connection::version(self)
    }

    fn version_info(&self) -> Result<VersionInfo, Error> {
        Connection::version_info(self)
    }

    fn parameter_status(&self, name: &str) -> Option<String> {
        Connection::parameter_status(self, name)
    }

    fn transaction_status(&self) -> TransactionStatus {
        Connection::transaction_status(self)
    }

    fn notices(&self) -> Vec<Message> {
        Connection::notices(self)
    }
}

impl pg_api::Statement for Statement {
    type Cursor = Cursor;

    fn statement_id(&self) -> &str {
        Statement::statement_id(self)
    }

    fn string(&self) -> &str {
        Statement::string(self)
    }

    fn column_names(&self) -> Vec<String> {
        Statement::column_names(self)
    }

    fn column_types(&self) -> Vec<Type> {
        Statement::column_types(self)
    }

    fn pg_column_types(&self) -> Vec<u32> {
        Statement::pg_column_types(self)
    }

    fn sql_column_types(&self) -> Vec<String> {
        Statement::sql_column_types(self)
    }

    fn parameter_types(&self) -> Vec<Type> {
        Statement::parameter_types(self)
    }

    fn pg_parameter_types(&self) -> Vec<u32> {
        Statement::pg_parameter_types(self)
    }

    fn sql_parameter_types(&self) -> Vec<String> {
        Statement::sql_parameter_types(self)
    }

    async fn rows_of<P: Params + Send>(&self, params: P) -> Result<Vec<Row>, Error> {
        Ok(self.call(params)?.rows)
    }

    async fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator + Send,
        I::IntoIter: Send,
        I::Item: Params + Send,
    {
        Statement::load_rows(self, rows)
    }

    async fn declare<P: Params + Send>(&self, params: P) -> Result<Cursor, Error> {
        Statement::declare(self, params)
    }

    async fn close(&self) -> Result<(), Error> {
        Statement::close(self)
    }
}

impl pg_api::Cursor for Cursor {
    fn cursor_id(&self) -> &str {
        Cursor::cursor_id(self)
    }

    fn column_names(&self) -> Vec<String> {
        Cursor::column_names(self)
    }

    fn direction(&self) -> Direction {
        Cursor::direction(self)
    }

    fn set_direction(&self, direction: Direction) {
        Cursor::set_direction(self, direction)
    }

    async fn read(
        &self,
        quantity: Option<u64>,
        direction: Option<Direction>,
    ) -> Result<Vec<Row>, Error> {
        Cursor::read(self, quantity, direction)
    }

    async fn seek(&self, offset: i64, whence: Whence) -> Result<u64, Error> {
        Cursor::seek(self, offset, whence)
    }

    async fn close(&self) -> Result<(), Error> {
        Cursor::close(self)
    }
}

impl pg_api::Transaction for Transaction {
    async fn start(&self) -> Result<(), Error> {
        Transaction::start(self)
    }

    async fn commit(&self) -> Result<(), Error> {
        Transaction::commit(self)
    }

    async fn rollback(&self) -> Result<(), Error> {
        Transaction::rollback(self)
    }

    fn isolation_level(&self) -> Option<String> {
        self.as_async().isolation_level()
    }

    fn is_savepoint(&self) -> Option<bool> {
        Transaction::is_savepoint(self)
    }
}

impl pg_api::Settings for Settings {
    async fn get(&self, name: &str) -> Result<Option<String>, Error> {
        Settings::get(self, name)
    }

    async fn set(&self, name: &str, value: &str) -> Result<(), Error> {
        Settings::set(self, name, value)
    }

    async fn reset(&self, name: &str) -> Result<(), Error> {
        Settings::reset(self, name)
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        Settings::keys(self)
    }

    async fn contains(&self, name: &str) -> Result<bool, Error> {
        Settings::contains(self, name)
    }

    fn reported(&self, name: &str) -> Option<String> {
        Settings::reported(self, name)
    }
}

impl pg_api::StoredProcedure for StoredProcedure {
    type Output = ProcResult;

    fn procedure_id(&self) -> &str {
        StoredProcedure::procedure_id(self)
    }

    fn input_types(&self) -> Vec<Type> {
        StoredProcedure::input_types(self)
    }

    fn srf(&self) -> bool {
        StoredProcedure::srf(self)
    }

    fn composite(&self) -> bool {
        StoredProcedure::composite(self)
    }

    async fn call<P: Params + Send>(&self, params: P) -> Result<ProcResult, Error> {
        StoredProcedure::call(self, params)
    }

    async fn call_named<P: Params + Send>(
        &self,
        positional: P,
        named: &[(&str, &(dyn ToSql + Sync))],
    ) -> Result<ProcResult, Error> {
        StoredProcedure::call_named(self, positional, named)
    }
}

impl pg_api::Notifications for Notifications {
    async fn next_event(&mut self) -> Option<pg_api::NotifyEvent> {
        Iterator::next(self)
    }
}
