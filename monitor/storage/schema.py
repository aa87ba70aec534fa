"""The database schema, its version, and forward migrations.

The schema version lives in ``PRAGMA user_version``. Each entry of
:data:`MIGRATIONS` moves the database from version ``i`` to ``i + 1``;
a database is only ever migrated forward, inside one transaction.
"""

from __future__ import annotations

import sqlite3

SCHEMA_V1 = """
CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    started_at    REAL    NOT NULL,
    ended_at      REAL,
    status        TEXT    NOT NULL CHECK (status IN ('open', 'completed', 'interrupted')),
    source        TEXT    NOT NULL,
    simulated     INTEGER NOT NULL DEFAULT 0,
    patient_ref   TEXT,
    writer_pid    INTEGER,
    heartbeat_at  REAL,
    last_data_at  REAL,
    reading_count INTEGER NOT NULL DEFAULT 0,
    utc_offset_s  INTEGER,
    app_version   TEXT
);
CREATE TABLE phases (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    phase      TEXT    NOT NULL,
    t          REAL    NOT NULL,
    PRIMARY KEY (session_id, phase)
);
CREATE TABLE readings (
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    t           REAL    NOT NULL,
    vital       TEXT    NOT NULL,
    value       REAL,
    quality     TEXT    NOT NULL,
    device_time REAL
);
CREATE INDEX readings_by_session ON readings (session_id, vital, t);
CREATE TABLE waves (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    vital      TEXT    NOT NULL,
    t0         REAL    NOT NULL,
    rate       REAL    NOT NULL,
    n          INTEGER NOT NULL,
    quality    TEXT    NOT NULL,
    samples    BLOB    NOT NULL
);
CREATE INDEX waves_by_session ON waves (session_id, vital, t0);
CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    kind       TEXT    NOT NULL,
    text       TEXT    NOT NULL DEFAULT '',
    author     TEXT    NOT NULL DEFAULT '',
    created_at REAL    NOT NULL
);
CREATE INDEX events_by_session ON events (session_id, t);
"""

SCHEMA_V2 = """
CREATE TABLE raw_capture (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    direction  TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
    data       BLOB    NOT NULL
);
CREATE INDEX raw_capture_by_session ON raw_capture (session_id, t);
ALTER TABLE sessions ADD COLUMN protocol TEXT;
ALTER TABLE sessions ADD COLUMN serial_settings TEXT
"""

SCHEMA_V3 = """
CREATE TABLE alarms (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    t           REAL    NOT NULL,
    alarm_id    TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('physiological', 'technical')),
    vital       TEXT,
    priority    TEXT    NOT NULL CHECK (priority IN ('low', 'medium', 'high')),
    state       TEXT    NOT NULL
                CHECK (state IN ('raised', 'escalated', 'acknowledged', 'cleared')),
    value       REAL,
    limit_value REAL,
    message     TEXT    NOT NULL,
    by          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alarms_by_session ON alarms (session_id, t);
CREATE TABLE alarm_actions (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    by         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX alarm_actions_by_session ON alarm_actions (session_id, t);
CREATE TABLE settings_changes (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    setting    TEXT    NOT NULL,
    old_value  REAL,
    new_value  REAL,
    by         TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX settings_changes_by_session ON settings_changes (session_id, t);
ALTER TABLE sessions ADD COLUMN alarm_profile TEXT
"""

SCHEMA_V4 = """
CREATE TABLE session_setup (
    session_id           INTEGER PRIMARY KEY REFERENCES sessions(id),
    patient_ref          TEXT,
    weight_kg            REAL,
    dose_mg_per_kg       REAL,
    total_mg             REAL,
    planned_infusion_min REAL,
    course_number        INTEGER,
    course_total         INTEGER,
    clinician            TEXT,
    alarm_profile        TEXT,
    pre_phq9             INTEGER,
    pre_madrs            INTEGER,
    post_cadss           INTEGER,
    discharge_at         REAL,
    discharge_by         TEXT,
    discharge_checklist  TEXT
);
CREATE INDEX sessions_by_patient ON sessions (patient_ref, started_at);
CREATE TABLE infusion_actions (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN ('start', 'pause', 'resume', 'stop')),
    by         TEXT    NOT NULL DEFAULT '',
    reason     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX infusion_actions_by_session ON infusion_actions (session_id, t);
CREATE TABLE session_events (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    event_id   TEXT    NOT NULL,
    t          REAL    NOT NULL,
    kind       TEXT    NOT NULL,
    text       TEXT    NOT NULL DEFAULT '',
    author     TEXT    NOT NULL DEFAULT '',
    created_at REAL    NOT NULL,
    UNIQUE (session_id, event_id)
);
CREATE TABLE event_corrections (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    event_id   TEXT    NOT NULL,
    old_t      REAL    NOT NULL,
    new_t      REAL    NOT NULL,
    by         TEXT    NOT NULL,
    at         REAL    NOT NULL
);
CREATE INDEX event_corrections_by_session ON event_corrections (session_id, event_id);
CREATE TABLE checklist_ticks (
    id         INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    item       TEXT    NOT NULL,
    ticked     INTEGER NOT NULL CHECK (ticked IN (0, 1)),
    by         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX checklist_ticks_by_session ON checklist_ticks (session_id, t)
"""

_ALARM_COUNTS_V5 = """
UPDATE sessions SET alarms_high = c.high, alarms_medium = c.medium, alarms_low = c.low
FROM (
    SELECT session_id, SUM(top = 3) AS high, SUM(top = 2) AS medium, SUM(top = 1) AS low
    FROM (
        SELECT session_id,
               MAX(CASE WHEN starts OR state IN ('raised', 'escalated') THEN p ELSE 0 END) AS top
        FROM (
            SELECT session_id, alarm_id, state, p, starts,
                   SUM(starts) OVER (PARTITION BY session_id, alarm_id ORDER BY t, id) AS span
            FROM (
                SELECT session_id, alarm_id, state, t, id,
                       CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END AS p,
                       (state = 'raised' OR COALESCE(LAG(state) OVER (
                           PARTITION BY session_id, alarm_id ORDER BY t, id), 'cleared')
                        = 'cleared') AS starts
                FROM alarms {where}
            )
        )
        GROUP BY session_id, alarm_id, span
    )
    GROUP BY session_id
) AS c
WHERE sessions.id = c.session_id
"""
"""The alarm recount of the v5 migration, as it was (before ``alarms_technical``): every
alarm counted, technical ones too. :data:`SCHEMA_V6` recounts with :data:`ALARM_COUNTS_UPDATE`.
"""

ALARM_COUNTS_SELECT = """
    SELECT session_id, SUM(NOT technical AND top = 3) AS high,
           SUM(NOT technical AND top = 2) AS medium, SUM(NOT technical AND top = 1) AS low,
           SUM(technical) AS technical
    FROM (
        SELECT session_id,
               MAX(CASE WHEN starts OR state IN ('raised', 'escalated') THEN p ELSE 0 END) AS top,
               MAX(kind = 'technical') AS technical
        FROM (
            SELECT session_id, alarm_id, kind, state, p, starts,
                   SUM(starts) OVER (PARTITION BY session_id, alarm_id ORDER BY t, id) AS span
            FROM (
                SELECT session_id, alarm_id, kind, state, t, id,
                       CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END AS p,
                       (state = 'raised' OR COALESCE(LAG(state) OVER (
                           PARTITION BY session_id, alarm_id ORDER BY t, id), 'cleared')
                        = 'cleared') AS starts
                FROM alarms {where}
            )
        )
        GROUP BY session_id, alarm_id, span
    )
    GROUP BY session_id
"""
"""Each session's alarms from its alarm log (``{where}``: e.g. ``WHERE session_id = ?``, or
empty for all): ``session_id``, ``high``, ``medium``, ``low`` (physiological alarms by the
highest priority each reached) and ``technical``. See :data:`ALARM_COUNTS_UPDATE`."""

ALARM_COUNTS_UPDATE = f"""
UPDATE sessions SET alarms_high = c.high, alarms_medium = c.medium, alarms_low = c.low,
                    alarms_technical = c.technical
FROM ({ALARM_COUNTS_SELECT}) AS c
WHERE sessions.id = c.session_id
"""
"""Recount the alarm columns of ``sessions`` from the alarm log (``{where}``: e.g.
``WHERE session_id = ?`` for one session, empty for all).

An alarm condition is counted once, at the highest priority it reached: a
condition of one ``alarm_id`` starts at ``raised`` (or at its first transition,
or the first after ``cleared``) and takes the highest priority of its raise and
escalations; this is ``monitor.review.record.alarm_counts`` in SQL. The priority
columns count physiological alarms only; ``alarms_technical`` counts the
technical ones (no data, sensor off, no alarm sound...), whatever their priority.
"""

SCHEMA_V5 = f"""
ALTER TABLE sessions ADD COLUMN peak_nibp_sys REAL;
ALTER TABLE sessions ADD COLUMN min_spo2 REAL;
ALTER TABLE sessions ADD COLUMN alarms_high INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN alarms_medium INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN alarms_low INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET
    peak_nibp_sys = (SELECT MAX(r.value) FROM readings r
                     WHERE r.session_id = sessions.id AND r.vital = 'nibp_sys'),
    min_spo2 = (SELECT MIN(r.value) FROM readings r
                WHERE r.session_id = sessions.id AND r.vital = 'spo2');
{_ALARM_COUNTS_V5.format(where="")}
"""
"""The session browser's columns, kept by the recorder with each batch (no scan at list
time): the highest systolic and lowest SpO2 of the session (every valid reading, typed
ones too; invalid readings are stored without a value) and the alarms by priority.
Existing sessions are filled in from their readings and alarm log."""

SCHEMA_V6 = f"""
ALTER TABLE sessions ADD COLUMN alarms_technical INTEGER NOT NULL DEFAULT 0;
{ALARM_COUNTS_UPDATE.format(where="")}
"""
"""Technical alarms counted apart: ``alarms_technical`` added, and every session's alarm
columns recounted from its alarm log so ``alarms_high``/``medium``/``low`` hold
physiological alarms only (v5 counted a technical alarm such as NO ALARM SOUND in its
priority's column)."""

SCHEMA_V7 = """
CREATE TABLE device_numerics (
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    t           REAL    NOT NULL,
    code        INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    value       REAL,
    unit        TEXT    NOT NULL DEFAULT '',
    quality     TEXT    NOT NULL,
    device_time REAL,
    source      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX device_numerics_by_session ON device_numerics (session_id, code, label, t)
"""
"""Numerics the device sent that are none of our vitals (``monitor.core.reading.DeviceNumeric``:
an IntelliVue's ART or ABP, an extra temperature, an id we do not know), kept with the
device's own id (``code``, e.g. the IntelliVue physiological id) and label, the unit, the
quality and the protocol that decoded them (``source``). ``value`` is NULL when there was
none, as in ``readings``. Only added: nothing older changes."""

OLD_DEVICE_NAMES: dict[str, str] = {
    "masimo-ascii": "Masimo", "nonin-2": "Nonin", "datex-s5": "Datex S/5", "text": "Text device",
    "intellivue-mib": "IntelliVue", "intellivue-lan": "IntelliVue", "hl7-pcd01": "HL7 monitor",
}
"""The device names of the protocols a v7 session could have (``Codec.device_name``), for
the v8 migration. Written out here: storage does not import the device layer, and a
migration must name what it wrote even if a codec is later renamed."""
OLD_OXIMETERS: tuple[str, ...] = ("masimo-ascii", "nonin-2")
"""The protocols of dedicated oximeters (``Codec.device_kind == "oximeter"``) in v7."""


def _old_name_sql() -> str:
    cases = " ".join(f"WHEN '{p}' THEN '{n}'" for p, n in OLD_DEVICE_NAMES.items())
    return (f"CASE protocol {cases} ELSE CASE WHEN source LIKE 'replay:%' THEN 'Replay'"
            " WHEN source LIKE 'sim:%' THEN 'Simulator' ELSE 'Device' END END")


SCHEMA_V8 = f"""
CREATE TABLE session_sources (
    session_id      INTEGER NOT NULL REFERENCES sessions(id),
    idx             INTEGER NOT NULL,
    name            TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    protocol        TEXT,
    settings        TEXT,
    simulated       INTEGER NOT NULL DEFAULT 0,
    kind            TEXT    NOT NULL DEFAULT 'monitor',
    clock_offset_s  REAL,
    clock_offset_at REAL,
    PRIMARY KEY (session_id, idx),
    UNIQUE (session_id, name)
);
INSERT INTO session_sources (session_id, idx, name, label, protocol, settings, simulated, kind)
    SELECT id, 0, {_old_name_sql()}, source, protocol, serial_settings, simulated,
           CASE WHEN protocol IN ({", ".join(f"'{p}'" for p in OLD_OXIMETERS)})
                THEN 'oximeter' ELSE 'monitor' END
    FROM sessions;
ALTER TABLE readings ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE waves ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE raw_capture ADD COLUMN source TEXT NOT NULL DEFAULT '';
DROP INDEX readings_by_session;
CREATE INDEX readings_by_session ON readings (session_id, vital, source, t);
DROP INDEX waves_by_session;
CREATE INDEX waves_by_session ON waves (session_id, vital, source, t0);
DROP INDEX raw_capture_by_session;
CREATE INDEX raw_capture_by_session ON raw_capture (session_id, source, t);
UPDATE device_numerics SET source = COALESCE((
    SELECT ss.name FROM session_sources ss
    WHERE ss.session_id = device_numerics.session_id AND ss.idx = 0), source);
CREATE TABLE selections (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    t          REAL    NOT NULL,
    vital      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    previous   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX selections_by_session ON selections (session_id, t);
CREATE TABLE source_clock (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    source     TEXT    NOT NULL,
    t          REAL    NOT NULL,
    offset_s   REAL    NOT NULL
);
CREATE INDEX source_clock_by_session ON source_clock (session_id, source, t)
"""
"""Several sources (devices) in one session (issue 16).

``session_sources`` lists each session's sources in order (``idx`` 0 first; the name is
unique in the session and is the key everywhere: readings, waves, raw capture, selections,
exports), with each device's last known clock offset (device clock minus host arrival,
seconds) and when it was published. ``readings``, ``waves`` and ``raw_capture`` gain the
``source`` of each row; ``''`` is an old row (or a typed reading: manual readings have no
device), read back as the session's first source (:mod:`monitor.storage.store`). Their
indexes put the source after the vital (after the session for the raw capture), so one
device's series is one range of the index and every device's series of a vital still one
prefix; each table keeps one index, so a write costs what it did.
``selections`` holds which source was shown and alarmed for each vital and why
(``monitor.core.events.Selection``), ``source_clock`` each published clock offset.

Existing sessions get one ``session_sources`` row from ``sessions.source``, ``protocol``
and ``serial_settings`` (the name is the protocol's device name, "Simulator" or "Replay",
as :func:`monitor.devices.protocols.device_name` gives it), and their device numerics,
whose ``source`` was the protocol, take that name. Old rows of the other tables keep
``''``: rewriting every reading of a large database would make the upgrade slow."""

MIGRATIONS: tuple[str, ...] = (SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5,
                               SCHEMA_V6, SCHEMA_V7, SCHEMA_V8)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaError(RuntimeError):
    """The database was written by a newer version of the app."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s database up to :data:`SCHEMA_VERSION`; return the version found.

    Raises
    ------
    SchemaError
        If the database is newer than this app understands (it is left untouched).
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise SchemaError(
            f"the database has schema version {found}, newer than this app's "
            f"{SCHEMA_VERSION}; upgrade Infusion Monitor to open it")
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
