#!/usr/bin/env python3
"""asyncpg's side of pg-bench: one timed run per process, reported as one JSON line.

    asyncpg_bench.py URI fetch SQL           every row of SQL, decoded by asyncpg (fetch)
    asyncpg_bench.py URI executemany TABLE N N INSERTs of (int4, text, numeric), pipelined
    asyncpg_bench.py URI copy_records TABLE N the same rows by copy_records_to_table
    asyncpg_bench.py URI connect N           N connections opened and closed in turn

Start-up, connecting (but for connect's connections), preparing and making the rows are not
timed. The report is {"seconds": wall time, "cpu_seconds": this process's
getrusage(RUSAGE_SELF) user + system delta over the timed part, "peak_rss_bytes": its
ru_maxrss, "rows": rows (or connections) handled}: the same accounting pg-bench uses for the
subjects that run in its own process.
"""

import asyncio
import decimal
import json
import resource
import sys
import time

import asyncpg


def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def insert_rows(n):
    # The rows pg-bench's Rust subjects insert: (i, "row i", i.25).
    return [(i, f"row {i}", decimal.Decimal(f"{i}.25")) for i in range(n)]


async def main(uri, mode, args):
    conn = await asyncpg.connect(uri)
    try:
        if mode == "fetch":
            stmt = await conn.prepare(args[0])
            work = stmt.fetch
        elif mode == "executemany":
            table, n = args[0], int(args[1])
            rows = insert_rows(n)
            stmt = await conn.prepare(f"INSERT INTO {table} (i, t, n) VALUES ($1, $2, $3)")

            async def work():
                await stmt.executemany(rows)
                return rows
        elif mode == "copy_records":
            table, n = args[0], int(args[1])
            rows = insert_rows(n)

            async def work():
                await conn.copy_records_to_table(table, records=rows, columns=["i", "t", "n"])
                return rows
        elif mode == "connect":
            n = int(args[0])

            async def work():
                for _ in range(n):
                    other = await asyncpg.connect(uri)
                    await other.close()
                return n
        else:
            raise SystemExit(f"unknown mode {mode!r}")
        started_cpu, started = cpu(), time.perf_counter()
        result = await work()
        seconds, cpu_seconds = time.perf_counter() - started, cpu() - started_cpu
    finally:
        await conn.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_bytes": peak,
        "rows": result if isinstance(result, int) else len(result),
    }))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
