"""`python -m medq.api keys create --tenant NAME` prints a new API key once (only its hash is stored);
`python -m medq.api serve [key=value ...]` runs the API with uvicorn on the composed config (conf/api, conf/agent).

    python -m medq.api keys create --tenant hospital-a [--database sqlite:///memory.db] [--create-database]
    python -m medq.api keys list | revoke KEY_ID
    python -m medq.api serve api.port=8000 api.workers=4 agent.endpoint.base_url=http://gpu-host:8000/v1
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from medq.errors import MedqError, command_status


def compose_api_config(overrides: list[str]) -> dict:
    """conf/config.yaml with the api and agent groups, validated like any pipeline config."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from medq.config import config_dirs, override_error, validate_pipeline_config

    conf_dir, _ = config_dirs()
    with initialize_config_dir(config_dir=str(conf_dir), version_base=None):
        base = compose("config")
        extra = [f"+{g}=default" for g in ("agent", "api") if g not in base]
        try:
            cfg = compose("config", overrides=extra + overrides)
        except Exception as exc:   # a misspelt key (api.prot=1) as one line naming it, not Hydra's traceback
            raise override_error(compose("config", overrides=extra), overrides, exc) from None
    container = validate_pipeline_config(cfg)
    return OmegaConf.to_container(OmegaConf.create(container["api"]))


def database_url(args_database: str | None, create: bool = False) -> str:
    """The API's database: --database, else agent.memory.url of the config. A SQLite file that does not exist is
    refused unless `create`: from another folder the default path names a new, empty database, and a key stored
    there is one the running API never sees."""
    url = args_database or compose_api_config([])["agent"]["memory"]["url"]
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not Path(path).is_file() and not create:
        source = "--database" if args_database else "agent.memory.url (from the config; MEDQ_HOME or the current folder)"
        raise MedqError(f"no database at {Path(path).resolve()} ({source} = {url}): point it at the API's database "
                        f"with --database URL or agent.memory.url (the API logs its URL), or pass --create-database to "
                        f"start a new one")
    return url


DEFAULT_SALT = "medq"   # conf/agent/default.yaml: fine for the demo, which runs on one machine and is thrown away


def check_trace_salt(api_node: dict) -> None:
    """Trace ids are salted hashes of patient and session ids; with the shipped salt anyone can hash a guessed id
    and find its traces on a shared tracking server. A deployment sets its own (the demo keeps the default)."""
    privacy = (api_node.get("agent") or {}).get("privacy") or {}
    if privacy.get("id_salt", DEFAULT_SALT) == DEFAULT_SALT:
        raise MedqError("agent.privacy.id_salt is the shipped default 'medq', so trace ids of patients could be "
                        "recomputed by anyone: set a secret of your own, e.g. "
                        "agent.privacy.id_salt=$(python -c 'import secrets; print(secrets.token_hex(16))') on the "
                        "command line or in your config (keep it: changing it breaks trace erasure of older turns)")


def write_settings(api_node: dict, folder: Path) -> Path:
    from omegaconf import OmegaConf

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "api.yaml"
    path.write_text(OmegaConf.to_yaml(OmegaConf.create(api_node)), encoding="utf-8")
    path.chmod(0o600)   # it may hold secrets (the erasure hooks' keys)
    return path


def uvicorn_command(settings_path: Path, host: str, port: int, workers: int) -> tuple[list[str], dict]:
    env = {**os.environ, "MEDQ_API_CONFIG": str(settings_path)}
    import medq

    # the workers import this same medq, whatever their working directory
    source = str(Path(medq.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])
    command = [sys.executable, "-m", "uvicorn", "--factory", "medq.api.app:app_from_env", "--host", host,
               "--port", str(port), "--workers", str(workers), "--no-access-log", "--timeout-graceful-shutdown", "5"]
    return command, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medq.api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    keys = sub.add_parser("keys", help="create, list or revoke API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create", help="print a new key for a tenant (shown once)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--database", help="SQLAlchemy URL (default: agent.memory.url of the config)")
    create.add_argument("--create-database", action="store_true",
                        help="create the database if it does not exist (otherwise that is an error)")
    listing = keys_sub.add_parser("list", help="key ids and tenants (never the keys)")
    listing.add_argument("--database")
    revoke = keys_sub.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.add_argument("--database")
    serve = sub.add_parser("serve", help="run the API with uvicorn")
    serve.add_argument("overrides", nargs="*", help="config overrides, e.g. api.port=8000")
    args = parser.parse_args(argv)
    return command_status(lambda: dispatch(args))


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "keys":
        from medq.api.keys import ApiKeyStore

        store = ApiKeyStore(database_url(args.database, getattr(args, "create_database", False)))
        if args.action == "create":
            key = store.create(args.tenant)
            print(key)
            print(f"(tenant {args.tenant}; the key is shown only now — store it safely)", file=sys.stderr)
        elif args.action == "list":
            for row in store.list():
                print(f"{row['key_id']}\t{row['tenant']}\t{row['created_at']}\t"
                      f"{'revoked ' + str(row['revoked_at']) if row['revoked_at'] else 'active'}")
        elif not store.revoke(args.key_id):
            raise MedqError(f"no active key with id {args.key_id!r}")
        return 0
    api = compose_api_config(args.overrides)
    check_trace_salt(api)
    settings_path = write_settings(api, Path(tempfile.mkdtemp(prefix="medq-api-")))
    command, env = uvicorn_command(settings_path, api["host"], api["port"], api["workers"])
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
