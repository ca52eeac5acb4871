import GRDB

extension Row {
    /// The value of column `index` as `T`. A value of another type (a file written by another program,
    /// or damaged) throws ``SQLiteFailure/corrupt(path:detail:)`` for the file at `path`, where GRDB's
    /// subscript would stop the process. Thrown inside ``SQLiteFile/read(_:)`` or ``SQLiteFile/write(_:)``,
    /// it reaches the caller as the file owner's error.
    public func value<T: DatabaseValueConvertible>(at index: Int, of path: String) throws -> T {
        do {
            return try decode(T.self, atIndex: index)
        } catch {
            throw SQLiteFailure.corrupt(path: path, detail: "unexpected value in column \(index): \(error)")
        }
    }

    /// The value of the column named `column` as `T`; see ``value(at:of:)``.
    public func value<T: DatabaseValueConvertible>(_ column: String, of path: String) throws -> T {
        do {
            return try decode(T.self, forColumn: column)
        } catch {
            throw SQLiteFailure.corrupt(path: path, detail: "unexpected value in column \(column): \(error)")
        }
    }
}
