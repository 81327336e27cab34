"""dlt's rest_api source syncing a CircleCI project (pipelines -> workflows -> jobs, cursor
pagination) into DuckDB: the peer ci-bench runs beside `ci-sync` on the same simulator.

Configured as a dlt user configures it for CircleCI: pipelines incremental on `updated_at`
(newest first, so paging stops at the cursor), workflows and jobs as child resources resolved
from their parent's `id`, merged on `id`. `--parallelized` sets dlt's `parallelized` on the child
resources (dlt at its best).

Prints one JSON object: the ids and statuses it holds afterwards, and its own peak RSS.
"""

import argparse
import json
import os
import resource
import sys

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

import dlt  # noqa: E402
import duckdb  # noqa: E402
from dlt.sources.rest_api import rest_api_source  # noqa: E402


def source(base_url, token, slug, parallelized):
    child = {"parallelized": True} if parallelized else {}
    return rest_api_source(
        {
            "client": {
                "base_url": base_url,
                "headers": {"Circle-Token": token},
                "paginator": {
                    "type": "cursor",
                    "cursor_path": "next_page_token",
                    "cursor_param": "page-token",
                },
            },
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"data_selector": "items"},
            },
            "resources": [
                {
                    "name": "pipelines",
                    "endpoint": {
                        "path": "project/" + slug.replace("/", "%2F") + "/pipeline",
                        "incremental": {
                            "cursor_path": "updated_at",
                            "initial_value": "1970-01-01T00:00:00Z",
                            "row_order": "desc",
                        },
                    },
                },
                {
                    "name": "workflows",
                    "endpoint": {"path": "pipeline/{resources.pipelines.id}/workflow"},
                    **child,
                },
                {
                    "name": "jobs",
                    "endpoint": {"path": "workflow/{resources.workflows.id}/job"},
                    "include_from_parent": ["id"],
                    **child,
                },
            ],
        },
        name="circleci",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--slug", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--parallelized", action="store_true")
    args = parser.parse_args()
    database = os.path.join(args.workdir, "dlt.duckdb")
    pipeline = dlt.pipeline(
        pipeline_name="circleci_bench",
        pipelines_dir=os.path.join(args.workdir, "pipelines"),
        destination=dlt.destinations.duckdb(database),
        dataset_name="circleci",
    )
    pipeline.run(source(args.base_url, "bench", args.slug, args.parallelized))
    with duckdb.connect(database, read_only=True) as db:

        def rows(query):
            try:
                return db.execute(query).fetchall()
            except duckdb.CatalogException:
                return []

        out = {
            "pipelines": [r[0] for r in rows("SELECT id FROM circleci.pipelines")],
            "workflows": rows("SELECT id, status FROM circleci.workflows"),
            "jobs": rows("SELECT id, status FROM circleci.jobs"),
            "peak_rss_kib": max(
                resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
            ),
        }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
