// The SQLite run store: schema migrations, the writer (one transaction per batch of units) and
// the reader, with every SQLite failure turned into a StoreError that says what to do next.
#include "core/store/run_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/eval/eval_plan.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

namespace ponder::core {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Schema history. A step is applied once, in its own transaction together with its row in
// schema_version, so a crash mid-upgrade leaves the previous version intact. Steps are never
// edited once released: a change to the schema is a new step.
struct Migration {
    int version;
    const char* summary;
    const char* sql;
};

const Migration kMigrations[] = {
    {1, "runs, input files, units and policy decisions", R"sql(
CREATE TABLE run (
    id INTEGER PRIMARY KEY,
    model_dir TEXT NOT NULL,
    backbone_sha256 TEXT NOT NULL,
    ttt_json TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    seed INTEGER NOT NULL,  -- the uint64 seed's bits
    mode TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    rate REAL NOT NULL,
    device TEXT NOT NULL,
    threads INTEGER NOT NULL,
    inputs_json TEXT NOT NULL,   -- the paths as given (files or folders)
    skipped_json TEXT NOT NULL,  -- "path: reason" of files left out of a folder
    files INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    dropped_tokens INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'failed')),
    seconds REAL,
    tokens_per_second REAL
);
CREATE TABLE input_file (
    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    file_index INTEGER NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    sha256 TEXT,
    PRIMARY KEY (run_id, file_index)
) WITHOUT ROWID;
-- REAL columns are nullable because SQLite stores NaN as NULL; the reader turns NULL back
-- into NaN.
CREATE TABLE unit (
    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    unit INTEGER NOT NULL,
    file_index INTEGER NOT NULL,
    file TEXT NOT NULL,
    batch_index INTEGER NOT NULL,
    chunk_index INTEGER NOT NULL,
    token_start INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    sequences INTEGER NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    loss_skip REAL,
    loss_update REAL,
    advantage REAL,
    recon_step0 REAL,
    recon_init REAL,
    recon_step1 REAL,
    improvement REAL,
    entropy REAL,
    confidence REAL,
    seconds REAL,
    PRIMARY KEY (run_id, unit)
) WITHOUT ROWID;
-- One row per policy with its per-unit vectors as blobs rather than one row per (policy,
-- unit): a policy is always saved, replaced and replayed as a whole vector and never queried
-- per unit in SQL, so blobs cost one statement per policy instead of N, take ~10x less space
-- than N rows of keys, and keep NaN thresholds bit-exact (a REAL column would turn them NULL).
-- decisions: one byte (0/1) per unit; threshold, rate_ema: float64 little-endian per unit
-- (or empty). Element i belongs to the i-th unit of the run in unit order.
CREATE TABLE policy (
    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,  -- save order, so a reload lists policies as the run did
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    decisions BLOB NOT NULL,
    threshold BLOB NOT NULL,
    rate_ema BLOB NOT NULL,
    UNIQUE (run_id, name)
);
)sql"},
    {2, "run labels, ablation flags and per-token losses", R"sql(
ALTER TABLE run ADD COLUMN label TEXT NOT NULL DEFAULT '';
-- The sanity ablations a run was evaluated with (algorithm.md §4; Tables 10 and 11).
ALTER TABLE run ADD COLUMN shuffle INTEGER NOT NULL DEFAULT 0;
ALTER TABLE run ADD COLUMN causal_k INTEGER NOT NULL DEFAULT 0;
-- File mode's per-token CE of both paths (the source heat map), float32 little-endian: a
-- 512-token unit costs 4 KiB instead of ~1000 rows. A unit without token losses has no row.
CREATE TABLE unit_token_loss (
    run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
    unit INTEGER NOT NULL,
    loss_skip BLOB NOT NULL,
    loss_update BLOB NOT NULL,
    PRIMARY KEY (run_id, unit)
);
)sql"},
    {3, "training runs and their loss curves", R"sql(
-- One row per `ponder train-base|train-ttt` invocation; a resumed training is a new row
-- with the same out_dir, its points continuing the step count.
CREATE TABLE training (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('base', 'ttt')),
    out_dir TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    device TEXT NOT NULL,
    threads INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'failed'))
);
CREATE TABLE training_point (
    training_id INTEGER NOT NULL REFERENCES training(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    loss REAL,
    ce REAL,
    lr REAL,
    grad_norm REAL,
    tokens_per_second REAL,
    seconds REAL,
    PRIMARY KEY (training_id, step)
);
)sql"},
    {4, "the UPDATE path's entropy and confidence per unit", R"sql(
-- NULL in runs stored before version 4 (and for units whose UPDATE path was not computed):
-- the reader returns NaN and the policies that need them say so.
ALTER TABLE unit ADD COLUMN entropy_update REAL;
ALTER TABLE unit ADD COLUMN confidence_update REAL;
)sql"},
    {5, "learned-gate features per unit, the run's TTT checkpoint hash, gate trainings", R"sql(
-- The 28 stored gate features (gate.h) as little-endian float32; NULL where not computed.
ALTER TABLE unit ADD COLUMN gate_features BLOB;
-- SHA-256 of the run's ttt.safetensors (a learned gate checks it); NULL before version 5.
ALTER TABLE run ADD COLUMN ttt_sha256 TEXT;
-- `ponder train-gate` rows: the kind CHECK widens and points gain the training update rate.
-- The child is rebuilt before the parent is dropped, so no ON DELETE CASCADE fires; the
-- renames carry the foreign key over to the new names.
CREATE TABLE training_v5 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('base', 'ttt', 'gate')),
    out_dir TEXT NOT NULL,
    settings_json TEXT NOT NULL,
    device TEXT NOT NULL,
    threads INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'cancelled', 'failed'))
);
INSERT INTO training_v5 SELECT * FROM training;
CREATE TABLE training_point_v5 (
    training_id INTEGER NOT NULL REFERENCES training_v5(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    loss REAL,
    ce REAL,
    lr REAL,
    grad_norm REAL,
    tokens_per_second REAL,
    seconds REAL,
    update_rate REAL,  -- gate trainings: the fraction of units the gate sent to UPDATE
    PRIMARY KEY (training_id, step)
);
INSERT INTO training_point_v5 SELECT *, NULL FROM training_point;
DROP TABLE training_point;
DROP TABLE training;
ALTER TABLE training_v5 RENAME TO training;
ALTER TABLE training_point_v5 RENAME TO training_point;
)sql"},
    {6, "the backbone's compute dtype per run", R"sql(
-- "float32" or "bfloat16" (`ponder eval --dtype bf16`); NULL before version 6 = float32.
ALTER TABLE run ADD COLUMN dtype TEXT;
)sql"},
    {7, "generated streams stored whole", R"sql(
-- `ponder generate` reads and writes a stream no file holds: its text, token ids (int32) and
-- each token's byte offset in the text (uint64), little-endian. NULL for files read from disk.
ALTER TABLE input_file ADD COLUMN text TEXT;
ALTER TABLE input_file ADD COLUMN token_ids BLOB;
ALTER TABLE input_file ADD COLUMN token_starts BLOB;
)sql"},
    {8, "the static path's loss per unit", R"sql(
-- The UPDATE path's CE with the inner step set to zero (algorithm.md §4.1); NULL before
-- version 8 and where not computed: adv_static and adv_inner are then n/a.
ALTER TABLE unit ADD COLUMN loss_static REAL;
)sql"},
};

constexpr int kCurrentVersion = 8;
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kCurrentVersion,
              "one migration step per schema version");

std::string nowIso8601() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string runsHint(const fs::path& path) {
    return "list the runs with `ponder runs --db " + path.string() + "`";
}

// Every SQLite failure leaves through here, named by what we were doing and with a hint.
[[noreturn]] void throwStoreError(const SQLite::Exception& e, const fs::path& path,
                                  const std::string& doing) {
    // "cannot open run database 'F'" / "cannot append units to run 3 in run database 'F'"
    const std::string cannot = "cannot " + doing + (doing == "open" ? " " : " in ") +
                               "run database '" + path.string() + "'";
    switch (e.getErrorCode()) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            throw StoreError(cannot +
                                 ": database is locked (another connection kept its "
                                 "write lock beyond the busy timeout)",
                             "wait for the other ponder writing to it to finish, or use "
                             "another {--db} file");
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            throw StoreError("'" + path.string() + "' is not a SQLite database or is corrupted (" +
                                 e.what() + ")",
                             "the file was left untouched; pass another {--db} file");
        case SQLITE_CANTOPEN:
        case SQLITE_READONLY:
        case SQLITE_PERM:
        case SQLITE_AUTH:
            throw StoreError(cannot + ": " + e.what(),
                             "check that the folder exists and that the file and its folder "
                             "are writable (SQLite needs to create '-wal' files beside it)");
        case SQLITE_FULL:
            throw StoreError(cannot + ": disk full",
                             "free some disk space or use a {--db} file on another disk");
        case SQLITE_IOERR:
            throw StoreError(cannot + ": I/O error: " + e.what(),
                             "check the disk and the file's permissions");
        case SQLITE_CONSTRAINT:
            throw StoreError(cannot + ": " + e.what(),
                             "the record breaks a rule of the schema (e.g. a unit or policy "
                             "stored twice); this is a bug in the caller, please report it");
        default:
            throw StoreError(cannot + ": " + e.what(),
                             "check the file with `sqlite3 " + path.string() +
                                 " 'PRAGMA integrity_check'`, or use another --db file");
    }
}

[[noreturn]] void throwCorrupt(const fs::path& path, const std::string& what) {
    throw StoreError("'" + path.string() + "' holds a malformed record: " + what,
                     "the file may be damaged; check it with `sqlite3 " + path.string() +
                         " 'PRAGMA integrity_check'` or use another --db file");
}

// Portable little-endian encodings: byte order is fixed by the format, not by the machine.
template <typename Float, typename Bits>
std::string encodeLittleEndian(const std::vector<Float>& values) {
    static_assert(sizeof(Float) == sizeof(Bits));
    std::string out(values.size() * sizeof(Bits), '\0');
    for (std::size_t i = 0; i < values.size(); ++i) {
        Bits bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        for (std::size_t b = 0; b < sizeof(Bits); ++b)
            out[i * sizeof(Bits) + b] = static_cast<char>((bits >> (8 * b)) & 0xff);
    }
    return out;
}

template <typename Float, typename Bits>
std::vector<Float> decodeLittleEndian(const SQLite::Column& column, const fs::path& path) {
    const auto* bytes = static_cast<const unsigned char*>(column.getBlob());
    const auto size = static_cast<std::size_t>(column.getBytes());
    if (size % sizeof(Bits) != 0)
        throwCorrupt(path, std::string("blob '") + column.getName() + "' has " +
                               std::to_string(size) + " bytes, not a multiple of " +
                               std::to_string(sizeof(Bits)));
    std::vector<Float> values(size / sizeof(Bits));
    for (std::size_t i = 0; i < values.size(); ++i) {
        Bits bits = 0;
        for (std::size_t b = 0; b < sizeof(Bits); ++b)
            bits |= static_cast<Bits>(bytes[i * sizeof(Bits) + b]) << (8 * b);
        std::memcpy(&values[i], &bits, sizeof bits);
    }
    return values;
}

std::vector<std::uint8_t> blobBytes(const SQLite::Column& column) {
    const auto* bytes = static_cast<const std::uint8_t*>(column.getBlob());
    return std::vector<std::uint8_t>(bytes, bytes + column.getBytes());
}

// SQLite binds NaN as NULL; read it back as NaN so a stored record equals the original.
double realOrNan(const SQLite::Column& column) {
    return column.isNull() ? std::numeric_limits<double>::quiet_NaN() : column.getDouble();
}

void bindBlob(SQLite::Statement& statement, int index, const std::string& bytes) {
    // data() of an empty string is non-null, so an empty vector is an empty blob, not NULL.
    statement.bind(index, static_cast<const void*>(bytes.data()), static_cast<int>(bytes.size()));
}

RunStatus parseStatus(const std::string& text, const fs::path& path) {
    for (RunStatus status :
         {RunStatus::Running, RunStatus::Complete, RunStatus::Cancelled, RunStatus::Failed})
        if (text == runStatusName(status)) return status;
    throwCorrupt(path, "unknown run status '" + text + "'");
}

std::vector<std::string> parseStringArray(const std::string& text, const fs::path& path) {
    try {
        return json::parse(text).get<std::vector<std::string>>();
    } catch (const json::exception& e) {
        throwCorrupt(path, std::string("a path list is not a JSON array of strings: ") + e.what());
    }
}

int readVersion(SQLite::Database& db) {
    if (!db.tableExists("schema_version")) return 0;
    SQLite::Statement query(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    query.executeStep();
    return query.getColumn(0).getInt();
}

// Applies the steps after the file's version up to `target`, each in one transaction that
// re-reads the version under the write lock (two processes may open a new file at once).
void migrate(SQLite::Database& db, int target) {
    for (const Migration& step : kMigrations) {
        if (step.version > target) break;
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TEXT NOT NULL, summary TEXT NOT NULL)");
        if (readVersion(db) >= step.version) continue;  // rolls back the no-op transaction
        db.exec(step.sql);
        SQLite::Statement record(db, "INSERT INTO schema_version VALUES (?, ?, ?)");
        record.bind(1, step.version);
        record.bind(2, nowIso8601());
        record.bind(3, step.summary);
        record.exec();
        transaction.commit();
    }
}

// Opens (or creates) the file, refuses foreign, damaged and newer ones before writing
// anything, sets the connection up and applies migration steps up to `targetVersion`.
std::unique_ptr<SQLite::Database> openDatabase(const fs::path& path, const StoreOptions& options,
                                               int targetVersion, int& version) {
    std::unique_ptr<SQLite::Database> db;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (fs::is_directory(status))
        throw StoreError("run database '" + path.string() + "' is a directory",
                         "pass a file path to {--db}, e.g. runs.sqlite");
    if (!fs::exists(status) && !options.create)
        throw StoreError(
            "no run database at '" + path.string() + "'",
            "check the path, or create one with `ponder eval --db " + path.string() + " ...`");
    try {
        const int flags = SQLite::OPEN_READWRITE | (options.create ? SQLite::OPEN_CREATE : 0);
        db = std::make_unique<SQLite::Database>(path, flags, options.busyTimeoutMs);
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, path, "open");
    }
    try {
        // First a read: SQLite opens lazily, so this is where a non-SQLite or damaged file
        // shows itself, before anything could be written to it.
        SQLite::Statement tables(
            *db,
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
            "'sqlite_%'");
        tables.executeStep();
        const int tableCount = tables.getColumn(0).getInt();
        tables.reset();  // ends the statement's read transaction: WAL cannot be set inside one
        const bool ours = db->tableExists("schema_version");
        if (!ours && tableCount > 0)
            throw StoreError("'" + path.string() +
                                 "' is a SQLite database of another program (it has no "
                                 "ponder schema_version table)",
                             "the file was left untouched; pass another {--db} file");
        // A damaged page surfaces only when a query reaches it, possibly after we have written
        // to the file; quick_check reads every page first (O(size), a few ms per MB) so a
        // damaged database is refused untouched instead of half-read or extended.
        if (tableCount > 0) {
            std::string check = db->execAndGet("PRAGMA quick_check(1)").getString();
            for (auto& c : check)
                if (c == '\n') c = ' ';  // one-line errors (design.md §9)
            if (check != "ok")
                throw StoreError(
                    "run database '" + path.string() + "' is corrupted (" + check + ")",
                    "the file was left untouched; restore it from a copy, or try "
                    "`sqlite3 FILE .recover`");
        }
        version = readVersion(*db);
        if (version > kCurrentVersion)
            throw StoreError("run database '" + path.string() + "' has schema version " +
                                 std::to_string(version) + "; this ponder knows up to " +
                                 std::to_string(kCurrentVersion),
                             "this database was written by a newer ponder; upgrade ponder "
                             "or use another {--db} file");
        // WAL: readers (the GUI's history, `ponder runs`) never block the writer or wait
        // for it, and a killed writer's uncommitted frames are simply ignored on reopen.
        db->exec("PRAGMA journal_mode = WAL");
        // FULL: a committed batch survives power loss, not only a killed process; one
        // fsync per batch of units is negligible next to evaluating them.
        db->exec("PRAGMA synchronous = FULL");
        db->exec("PRAGMA foreign_keys = ON");
        if (version < targetVersion) {
            migrate(*db, targetVersion);
            version = readVersion(*db);
        }
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, path, "open");
    }
    return db;
}

}  // namespace

const char* runStatusName(RunStatus status) {
    switch (status) {
        case RunStatus::Running:
            return "running";
        case RunStatus::Complete:
            return "complete";
        case RunStatus::Cancelled:
            return "cancelled";
        case RunStatus::Failed:
            return "failed";
    }
    return "failed";
}

int currentSchemaVersion() {
    return kCurrentVersion;
}

struct RunStore::Impl {
    fs::path path;
    int version = 0;  // before db: openDatabase sets it while db is initialised
    std::unique_ptr<SQLite::Database> db;

    Impl(const fs::path& dbPath, const StoreOptions& options)
        : path(dbPath), db(openDatabase(path, options, kCurrentVersion, version)) {}

    void requireRun(std::int64_t runId) const {
        SQLite::Statement query(*db, "SELECT 1 FROM run WHERE id = ?");
        query.bind(1, static_cast<std::int64_t>(runId));
        if (!query.executeStep())
            throw StoreError("no run " + std::to_string(runId) + " in '" + path.string() + "'",
                             runsHint(path));
    }
};

RunStore::RunStore(const fs::path& path, const StoreOptions& options)
    : m_impl(std::make_unique<Impl>(path, options)) {}
RunStore::~RunStore() = default;
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;

const fs::path& RunStore::path() const {
    return m_impl->path;
}
int RunStore::schemaVersion() const {
    return m_impl->version;
}

std::int64_t RunStore::beginRun(const RunDescription& run, const std::string& settingsJson,
                                std::uint64_t seed, const std::vector<StoredInputFile>& files) {
    const std::string settings = settingsJson.empty() ? "{}" : settingsJson;
    if (!json::accept(settings))
        throw StoreError("run settings are not valid JSON: " + settings.substr(0, 80),
                         "this is a bug in the caller, please report it");
    auto& db = *m_impl->db;
    try {
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement insert(db,
                                 "INSERT INTO run (model_dir, backbone_sha256, ttt_json, "
                                 "settings_json, seed, mode, chunk, rate, device, threads, "
                                 "inputs_json, skipped_json, files, tokens, dropped_tokens, "
                                 "started_at, status, seconds, tokens_per_second, shuffle, "
                                 "causal_k, ttt_sha256, dtype) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                 "?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)");
        insert.bind(1, run.modelDir);
        insert.bind(2, run.backboneSha256);
        insert.bind(3, run.tttConfigJson);
        insert.bind(4, settings);
        insert.bind(5, static_cast<std::int64_t>(seed));  // bits kept; read back as uint64
        insert.bind(6, run.mode);
        insert.bind(7, static_cast<std::int64_t>(run.chunk));
        insert.bind(8, run.rate);
        insert.bind(9, run.device);
        insert.bind(10, run.threads);
        // Paths need not be UTF-8; dump() would throw json::type_error on them.
        const auto listJson = [](const std::vector<std::string>& items) {
            return json(items).dump(-1, ' ', false, json::error_handler_t::replace);
        };
        insert.bind(11, listJson(run.inputs));
        insert.bind(12, listJson(run.skippedFiles));
        insert.bind(13, static_cast<std::int64_t>(run.files));
        insert.bind(14, static_cast<std::int64_t>(run.tokens));
        insert.bind(15, static_cast<std::int64_t>(run.droppedTokens));
        insert.bind(16, run.startedAt.empty() ? nowIso8601() : run.startedAt);
        insert.bind(17, run.seconds);
        insert.bind(18, run.tokensPerSecond);
        insert.bind(19, run.shuffle ? 1 : 0);
        insert.bind(20, static_cast<std::int64_t>(run.causalK));
        if (run.tttSha256.empty())
            insert.bind(21);
        else
            insert.bind(21, run.tttSha256);
        insert.bind(22, run.dtype);
        insert.exec();
        const std::int64_t runId = db.getLastInsertRowid();

        SQLite::Statement file(db, "INSERT INTO input_file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (const StoredInputFile& f : files) {
            file.bind(1, runId);
            file.bind(2, static_cast<std::int64_t>(f.fileIndex));
            file.bind(3, f.path);
            file.bind(4, static_cast<std::int64_t>(f.bytes));
            file.bind(5, static_cast<std::int64_t>(f.tokens));
            if (f.sha256.empty())
                file.bind(6);
            else
                file.bind(6, f.sha256);
            if (f.text.empty() && f.tokenIds.empty()) {
                file.bind(7);
                file.bind(8);
                file.bind(9);
            } else {
                file.bind(7, f.text);
                bindBlob(file, 8, encodeLittleEndian<std::int32_t, std::uint32_t>(f.tokenIds));
                bindBlob(file, 9, encodeLittleEndian<std::uint64_t, std::uint64_t>(f.tokenStarts));
            }
            file.exec();
            file.reset();
        }
        transaction.commit();
        return runId;
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "begin a run");
    }
}

void RunStore::appendUnits(std::int64_t runId, const std::vector<UnitRecord>& units) {
    auto& db = *m_impl->db;
    try {
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        m_impl->requireRun(runId);
        SQLite::Statement unit(db,
                               "INSERT INTO unit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                               "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        SQLite::Statement tokens(db, "INSERT INTO unit_token_loss VALUES (?, ?, ?, ?)");
        for (const UnitRecord& u : units) {
            int i = 0;
            unit.bind(++i, runId);
            unit.bind(++i, static_cast<std::int64_t>(u.unit));
            unit.bind(++i, static_cast<std::int64_t>(u.fileIndex));
            unit.bind(++i, u.file);
            unit.bind(++i, static_cast<std::int64_t>(u.batchIndex));
            unit.bind(++i, static_cast<std::int64_t>(u.chunkIndex));
            unit.bind(++i, static_cast<std::int64_t>(u.tokenStart));
            unit.bind(++i, static_cast<std::int64_t>(u.tokens));
            unit.bind(++i, static_cast<std::int64_t>(u.sequences));
            unit.bind(++i, static_cast<std::int64_t>(u.lineStart));
            unit.bind(++i, static_cast<std::int64_t>(u.lineEnd));
            for (double value : {u.lossSkip, u.lossUpdate, u.advantage, u.reconStep0, u.reconInit,
                                 u.reconStep1, u.improvement, u.entropy, u.confidence, u.seconds,
                                 u.entropyUpdate, u.confidenceUpdate})
                unit.bind(++i, value);
            if (u.gateFeatures.empty())
                unit.bind(++i);
            else
                bindBlob(unit, ++i, encodeLittleEndian<float, std::uint32_t>(u.gateFeatures));
            unit.bind(++i, u.lossStatic);
            unit.exec();
            unit.reset();
            if (!u.tokenLossSkip.empty() || !u.tokenLossUpdate.empty()) {
                tokens.bind(1, runId);
                tokens.bind(2, static_cast<std::int64_t>(u.unit));
                bindBlob(tokens, 3, encodeLittleEndian<float, std::uint32_t>(u.tokenLossSkip));
                bindBlob(tokens, 4, encodeLittleEndian<float, std::uint32_t>(u.tokenLossUpdate));
                tokens.exec();
                tokens.reset();
            }
        }
        transaction.commit();
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "append units to run " + std::to_string(runId));
    }
}

void RunStore::savePolicies(std::int64_t runId, const std::vector<StoredPolicy>& policies) {
    auto& db = *m_impl->db;
    try {
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        m_impl->requireRun(runId);
        SQLite::Statement clear(db, "DELETE FROM policy WHERE run_id = ?");
        clear.bind(1, runId);
        clear.exec();
        SQLite::Statement insert(db,
                                 "INSERT INTO policy (run_id, position, name, spec_json, "
                                 "decisions, threshold, rate_ema) VALUES (?, ?, ?, ?, ?, ?, ?)");
        for (std::size_t p = 0; p < policies.size(); ++p) {
            const StoredPolicy& policy = policies[p];
            const std::string spec = policy.specJson.empty() ? "{}" : policy.specJson;
            insert.bind(1, runId);
            insert.bind(2, static_cast<std::int64_t>(p));
            insert.bind(3, policy.name);
            insert.bind(4, spec);
            bindBlob(insert, 5, std::string(policy.decisions.begin(), policy.decisions.end()));
            bindBlob(insert, 6, encodeLittleEndian<double, std::uint64_t>(policy.threshold));
            bindBlob(insert, 7, encodeLittleEndian<double, std::uint64_t>(policy.rateEma));
            insert.exec();
            insert.reset();
        }
        transaction.commit();
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "save the policies of run " + std::to_string(runId));
    }
}

std::int64_t RunStore::beginTraining(const std::string& kind, const std::string& outDir,
                                     const std::string& settingsJson, const std::string& device,
                                     int threads) {
    auto& db = *m_impl->db;
    try {
        SQLite::Statement insert(db,
                                 "INSERT INTO training (kind, out_dir, settings_json, device, "
                                 "threads, started_at, status) VALUES (?, ?, ?, ?, ?, ?, "
                                 "'running')");
        insert.bind(1, kind);
        insert.bind(2, outDir);
        insert.bind(3, settingsJson.empty() ? std::string("{}") : settingsJson);
        insert.bind(4, device);
        insert.bind(5, threads);
        insert.bind(6, nowIso8601());
        insert.exec();
        return db.getLastInsertRowid();
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "record a " + kind + " training");
    }
}

void RunStore::appendTrainingPoints(std::int64_t trainingId,
                                    const std::vector<TrainingPoint>& points) {
    auto& db = *m_impl->db;
    try {
        SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
        SQLite::Statement insert(db,
                                 "INSERT OR REPLACE INTO training_point VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& point : points) {
            insert.bind(1, trainingId);
            insert.bind(2, static_cast<std::int64_t>(point.step));
            insert.bind(3, point.loss);
            insert.bind(4, point.ce);
            insert.bind(5, point.lr);
            insert.bind(6, point.gradNorm);
            insert.bind(7, point.tokensPerSecond);
            insert.bind(8, point.seconds);
            insert.bind(9, point.updateRate);  // NaN binds as NULL
            insert.exec();
            insert.reset();
        }
        transaction.commit();
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "append points to training " + std::to_string(trainingId));
    }
}

void RunStore::finishTraining(std::int64_t trainingId, RunStatus status) {
    auto& db = *m_impl->db;
    try {
        SQLite::Statement update(db,
                                 "UPDATE training SET status = ?, finished_at = ? WHERE id = ?");
        update.bind(1, runStatusName(status));
        update.bind(2, nowIso8601());
        update.bind(3, trainingId);
        update.exec();
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "finish training " + std::to_string(trainingId));
    }
}

std::vector<TrainingPoint> RunStore::trainingCurve(const std::string& kind,
                                                   const std::string& outDir) const {
    auto& db = *m_impl->db;
    std::vector<TrainingPoint> points;
    try {
        // Every invocation's points for this output, the latest value of a repeated step.
        SQLite::Statement query(db,
                                "SELECT p.step, p.loss, p.ce, p.lr, p.grad_norm, "
                                "p.tokens_per_second, p.seconds, p.update_rate FROM "
                                "training_point p JOIN "
                                "training t ON t.id = p.training_id WHERE t.kind = ? AND "
                                "t.out_dir = ? ORDER BY p.step, t.id");
        query.bind(1, kind);
        query.bind(2, outDir);
        while (query.executeStep()) {
            TrainingPoint point;
            point.step = query.getColumn("step").getInt64();
            point.loss = realOrNan(query.getColumn("loss"));
            point.ce = realOrNan(query.getColumn("ce"));
            point.lr = realOrNan(query.getColumn("lr"));
            point.gradNorm = realOrNan(query.getColumn("grad_norm"));
            point.tokensPerSecond = realOrNan(query.getColumn("tokens_per_second"));
            point.seconds = realOrNan(query.getColumn("seconds"));
            point.updateRate = realOrNan(query.getColumn("update_rate"));
            if (!points.empty() && points.back().step == point.step)
                points.back() = point;
            else
                points.push_back(point);
        }
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "read the curve of " + outDir);
    }
    return points;
}

void RunStore::finishRun(std::int64_t runId, RunStatus status, double seconds,
                         double tokensPerSecond) {
    auto& db = *m_impl->db;
    try {
        SQLite::Statement update(db,
                                 "UPDATE run SET status = ?, finished_at = ?, seconds = ?, "
                                 "tokens_per_second = ? WHERE id = ?");
        update.bind(1, runStatusName(status));
        update.bind(2, nowIso8601());
        update.bind(3, seconds);
        update.bind(4, tokensPerSecond);
        update.bind(5, runId);
        if (update.exec() == 0)
            throw StoreError(
                "no run " + std::to_string(runId) + " in '" + m_impl->path.string() + "'",
                runsHint(m_impl->path));
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "finish run " + std::to_string(runId));
    }
}

void RunStore::setLabel(std::int64_t runId, const std::string& label) {
    auto& db = *m_impl->db;
    try {
        SQLite::Statement update(db, "UPDATE run SET label = ? WHERE id = ?");
        update.bind(1, label);
        update.bind(2, runId);
        if (update.exec() == 0)
            throw StoreError(
                "no run " + std::to_string(runId) + " in '" + m_impl->path.string() + "'",
                runsHint(m_impl->path));
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "label run " + std::to_string(runId));
    }
}

namespace {

// Columns are read by their names (the SELECT's aliases), so adding one moves nothing.
const char* const kSummaryColumns =
    "r.id, r.started_at, r.finished_at, r.status, r.mode, r.model_dir, r.label, r.files, "
    "r.tokens, r.seconds, (SELECT COUNT(*) FROM unit u WHERE u.run_id = r.id) AS units";

RunSummary readSummary(const SQLite::Statement& row, const fs::path& path) {
    RunSummary s;
    s.id = row.getColumn("id").getInt64();
    s.startedAt = row.getColumn("started_at").getString();
    s.finishedAt = row.getColumn("finished_at").getString();  // NULL reads as ""
    s.status = parseStatus(row.getColumn("status").getString(), path);
    s.mode = row.getColumn("mode").getString();
    s.modelDir = row.getColumn("model_dir").getString();
    s.label = row.getColumn("label").getString();
    s.files = row.getColumn("files").getInt64();
    s.tokens = row.getColumn("tokens").getInt64();
    s.seconds = row.getColumn("seconds").getDouble();
    s.units = row.getColumn("units").getInt64();
    return s;
}

// The run row: its summary and the description it was evaluated with.
void readRunRow(SQLite::Database& db, std::int64_t runId, const fs::path& path, StoredRun& out) {
    SQLite::Statement query(db, std::string("SELECT ") + kSummaryColumns +
                                    ", r.backbone_sha256, r.ttt_json, r.settings_json, r.seed, "
                                    "r.chunk, r.rate, r.device, r.threads, r.inputs_json, "
                                    "r.skipped_json, r.dropped_tokens, r.tokens_per_second, "
                                    "r.shuffle, r.causal_k, r.ttt_sha256, r.dtype FROM run r "
                                    "WHERE r.id = ?");
    query.bind(1, runId);
    if (!query.executeStep())
        throw StoreError("no run " + std::to_string(runId) + " in '" + path.string() + "'",
                         runsHint(path));
    out.summary = readSummary(query, path);
    out.settingsJson = query.getColumn("settings_json").getString();
    out.seed = static_cast<std::uint64_t>(query.getColumn("seed").getInt64());
    RunDescription& d = out.description;
    d.modelDir = out.summary.modelDir;
    d.backboneSha256 = query.getColumn("backbone_sha256").getString();
    d.tttConfigJson = query.getColumn("ttt_json").getString();
    d.chunk = query.getColumn("chunk").getInt64();
    d.rate = query.getColumn("rate").getDouble();
    d.device = query.getColumn("device").getString();
    d.threads = query.getColumn("threads").getInt();
    d.inputs = parseStringArray(query.getColumn("inputs_json").getString(), path);
    d.skippedFiles = parseStringArray(query.getColumn("skipped_json").getString(), path);
    d.droppedTokens = query.getColumn("dropped_tokens").getInt64();
    d.tokensPerSecond = query.getColumn("tokens_per_second").getDouble();
    d.shuffle = query.getColumn("shuffle").getInt() != 0;
    d.causalK = query.getColumn("causal_k").getInt64();
    d.tttSha256 = query.getColumn("ttt_sha256").getString();  // "" for NULL
    const auto dtype = query.getColumn("dtype");
    d.dtype = dtype.isNull() ? "float32" : dtype.getString();
    d.mode = out.summary.mode;
    d.files = static_cast<std::size_t>(out.summary.files);
    d.tokens = out.summary.tokens;
    d.seconds = out.summary.seconds;
    d.startedAt = out.summary.startedAt;
    d.cancelled = out.summary.status == RunStatus::Cancelled;
}

// Runs `sql` with the run id bound to its one parameter; `read` turns each row into a record.
template <typename Read>
auto readRunRows(SQLite::Database& db, const char* sql, std::int64_t runId, Read read) {
    SQLite::Statement query(db, sql);
    query.bind(1, runId);
    std::vector<decltype(read(query))> rows;
    while (query.executeStep())
        rows.push_back(read(query));
    return rows;
}

const char* const kInputFileQuery =
    "SELECT file_index, path, bytes, tokens, sha256, text, token_ids, token_starts "
    "FROM input_file WHERE run_id = ? ORDER BY file_index";

StoredInputFile readInputFile(const SQLite::Statement& query, const fs::path& path) {
    StoredInputFile f;
    f.fileIndex = query.getColumn("file_index").getInt64();
    f.path = query.getColumn("path").getString();
    f.bytes = query.getColumn("bytes").getInt64();
    f.tokens = query.getColumn("tokens").getInt64();
    f.sha256 = query.getColumn("sha256").getString();
    if (query.getColumn("text").isNull()) return f;
    f.text = query.getColumn("text").getString();
    f.tokenIds =
        decodeLittleEndian<std::int32_t, std::uint32_t>(query.getColumn("token_ids"), path);
    f.tokenStarts =
        decodeLittleEndian<std::uint64_t, std::uint64_t>(query.getColumn("token_starts"), path);
    if (f.tokenIds.size() != f.tokenStarts.size())
        throwCorrupt(path, "a stored stream has " + std::to_string(f.tokenIds.size()) +
                               " tokens but " + std::to_string(f.tokenStarts.size()) + " offsets");
    return f;
}

const char* const kUnitQuery =
    "SELECT u.unit, u.file_index, u.file, u.batch_index, u.chunk_index, u.token_start, "
    "u.tokens, u.sequences, u.line_start, u.line_end, u.loss_skip, u.loss_update, "
    "u.advantage, u.recon_step0, u.recon_init, u.recon_step1, u.improvement, u.entropy, "
    "u.confidence, u.seconds, t.loss_skip AS token_loss_skip, "
    "t.loss_update AS token_loss_update, u.entropy_update, u.confidence_update, "
    "u.gate_features, u.loss_static FROM unit u LEFT JOIN unit_token_loss t "
    "ON t.run_id = u.run_id AND t.unit = u.unit WHERE u.run_id = ? ORDER BY u.unit";

UnitRecord readUnit(const SQLite::Statement& query, const fs::path& path) {
    const auto real = [&](const char* name) { return realOrNan(query.getColumn(name)); };
    const auto floats = [&](const char* name) {
        return decodeLittleEndian<float, std::uint32_t>(query.getColumn(name), path);
    };
    UnitRecord u;
    u.unit = query.getColumn("unit").getInt64();
    u.fileIndex = query.getColumn("file_index").getInt64();
    u.file = query.getColumn("file").getString();
    u.batchIndex = query.getColumn("batch_index").getInt64();
    u.chunkIndex = query.getColumn("chunk_index").getInt64();
    u.tokenStart = query.getColumn("token_start").getInt64();
    u.tokens = query.getColumn("tokens").getInt64();
    u.sequences = query.getColumn("sequences").getInt64();
    u.lineStart = query.getColumn("line_start").getInt64();
    u.lineEnd = query.getColumn("line_end").getInt64();
    u.lossSkip = real("loss_skip");
    u.lossUpdate = real("loss_update");
    u.advantage = real("advantage");
    u.reconStep0 = real("recon_step0");
    u.reconInit = real("recon_init");
    u.reconStep1 = real("recon_step1");
    u.improvement = real("improvement");
    u.entropy = real("entropy");
    u.confidence = real("confidence");
    u.seconds = real("seconds");
    u.entropyUpdate = real("entropy_update");
    u.confidenceUpdate = real("confidence_update");
    u.lossStatic = real("loss_static");
    if (!query.getColumn("gate_features").isNull()) u.gateFeatures = floats("gate_features");
    if (!query.getColumn("token_loss_skip").isNull()) {
        u.tokenLossSkip = floats("token_loss_skip");
        u.tokenLossUpdate = floats("token_loss_update");
    }
    return u;
}

const char* const kPolicyQuery =
    "SELECT name, spec_json, decisions, threshold, rate_ema FROM policy WHERE run_id = ? "
    "ORDER BY position";

StoredPolicy readPolicy(const SQLite::Statement& query, const fs::path& path) {
    StoredPolicy p;
    p.name = query.getColumn("name").getString();
    p.specJson = query.getColumn("spec_json").getString();
    p.decisions = blobBytes(query.getColumn("decisions"));
    p.threshold = decodeLittleEndian<double, std::uint64_t>(query.getColumn("threshold"), path);
    p.rateEma = decodeLittleEndian<double, std::uint64_t>(query.getColumn("rate_ema"), path);
    return p;
}

}  // namespace

std::vector<RunSummary> RunStore::listRuns() const {
    try {
        SQLite::Statement query(*m_impl->db,
                                std::string("SELECT ") + kSummaryColumns +
                                    ", r.inputs_json, r.rate, r.settings_json FROM run r "
                                    "ORDER BY r.id");
        std::vector<RunSummary> runs;
        while (query.executeStep()) {
            auto summary = readSummary(query, m_impl->path);
            summary.inputs =
                parseStringArray(query.getColumn("inputs_json").getString(), m_impl->path);
            summary.rate = query.getColumn("rate").getDouble();
            // What identifies a run in a list: its policy (a damaged settings text: none).
            const auto settings =
                nlohmann::json::parse(query.getColumn("settings_json").getString(), nullptr, false);
            if (settings.is_object() && settings.contains("policy") &&
                settings["policy"].is_string())
                summary.policy = settings["policy"].get<std::string>();
            runs.push_back(std::move(summary));
        }
        return runs;
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "list the runs");
    }
}

StoredRun RunStore::loadRun(std::int64_t runId) const {
    auto& db = *m_impl->db;
    const fs::path& path = m_impl->path;
    try {
        // One read transaction: a consistent snapshot while a writer keeps appending units.
        SQLite::Transaction snapshot(db);
        StoredRun out;
        readRunRow(db, runId, path, out);
        const auto withPath = [&](auto read) {
            return [&path, read](const SQLite::Statement& row) { return read(row, path); };
        };
        out.inputFiles = readRunRows(db, kInputFileQuery, runId, withPath(readInputFile));
        out.units = readRunRows(db, kUnitQuery, runId, withPath(readUnit));
        out.policies = readRunRows(db, kPolicyQuery, runId, withPath(readPolicy));
        return out;  // the snapshot transaction rolls back: it only read
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, path, "load run " + std::to_string(runId));
    }
}

std::int64_t RunStore::resolveRunId(const std::string& text) const {
    const fs::path& path = m_impl->path;
    try {
        if (text == "latest") {
            SQLite::Statement query(*m_impl->db, "SELECT MAX(id) FROM run");
            query.executeStep();
            if (query.getColumn(0).isNull())
                throw StoreError("run database '" + path.string() + "' holds no runs yet",
                                 "store one with `ponder eval --db " + path.string() + " ...`");
            return query.getColumn(0).getInt64();
        }
        std::int64_t id = 0;
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (text.empty() || error != std::errc() || end != text.data() + text.size())
            throw StoreError("'" + text + "' is not a run id",
                             "pass `latest` or a number; " + runsHint(path));
        m_impl->requireRun(id);
        return id;
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, path, "look up run '" + text + "'");
    }
}

std::string RunStore::integrityCheck() const {
    try {
        SQLite::Statement query(*m_impl->db, "PRAGMA integrity_check");
        std::string report;
        while (query.executeStep()) {
            if (!report.empty()) report += '\n';
            report += query.getColumn(0).getString();
        }
        return report;
    } catch (const SQLite::Exception& e) {
        throwStoreError(e, m_impl->path, "check the database");
    }
}

void createStoreAtVersion(const fs::path& path, int version) {
    if (version < 1 || version > kCurrentVersion)
        throw StoreError("no schema version " + std::to_string(version),
                         "pass 1.." + std::to_string(kCurrentVersion));
    if (fs::exists(path))
        throw StoreError("'" + path.string() + "' already exists",
                         "createStoreAtVersion makes a new file; remove the old one first");
    int reached = 0;
    openDatabase(path, StoreOptions{}, version, reached);
}

std::vector<StoredInputFile> storedInputFiles(const EvalPlan& plan, bool hash) {
    std::vector<StoredInputFile> files;
    files.reserve(plan.files.size());
    for (std::size_t i = 0; i < plan.files.size(); ++i) {
        const PlanFile& file = plan.files[i];
        StoredInputFile f;
        f.fileIndex = static_cast<std::int64_t>(i);
        f.path = file.path.string();
        f.bytes = static_cast<std::int64_t>(file.text.size());
        f.tokens = static_cast<std::int64_t>(file.ids.size());
        if (hash) f.sha256 = sha256Hex(file.text);
        if (file.storedWhole) {
            f.text = file.text;
            f.tokenIds = file.ids;
            f.tokenStarts = file.tokenByteStart;
        }
        files.push_back(std::move(f));
    }
    return files;
}

}  // namespace ponder::core
