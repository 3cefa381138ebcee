import ABLNet

extension InputFile {
    /// The bytes of a dataset file, with the reader's errors as `DatasetError`s naming the file.
    static func dataset(_ path: String, limit: Int = InputLimits.maxInputBytes) throws -> [UInt8] {
        do { return try read(path, limit: limit) } catch let e as InputFileError {
            throw DatasetError.unreadable(path: path, reason: e.reason)
        }
    }
}
