"""`python -m medq.ui run ...` starts the chat app (`chainlit run medq/ui/app.py`) against a running medq API;
`python -m medq.ui add-user FILE NAME` adds a login (asks for the password, or takes --password).

    python -m medq.ui run --api-url http://127.0.0.1:8000 --api-key mq-... --tenant default \\
        --database sqlite:///memory.db --users users.json --port 8501 --home ./ui
"""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).with_name("app.py")


def prepare_home(home: Path, database: str) -> dict[str, str]:
    """Chainlit's app root (its config, with telemetry off), the auth secret, and the thread tables."""
    from sqlalchemy import create_engine

    from medq.ui.data_layer import create_chainlit_tables

    home.mkdir(parents=True, exist_ok=True)
    import medq

    # Chainlit runs from its app root: make it import this same medq, whatever the working directory
    source = str(Path(medq.__file__).resolve().parent.parent)
    env = {**os.environ, "CHAINLIT_APP_ROOT": str(home),
           "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    config = home / ".chainlit" / "config.toml"
    if not config.is_file():
        subprocess.run([sys.executable, "-c", "import chainlit.config as c; c.init_config()"], env=env, check=True,
                       capture_output=True, cwd=home)
    text = config.read_text(encoding="utf-8")
    # Telemetry off by default (the project's rule); Chainlit's generated config turns it on.
    config.write_text(text.replace("enable_telemetry = true", "enable_telemetry = false"), encoding="utf-8")
    secret_file = home / "auth_secret"
    if not secret_file.is_file():
        secret_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        secret_file.chmod(0o600)
    engine = create_engine(database)
    create_chainlit_tables(engine)
    engine.dispose()
    return {**env, "CHAINLIT_AUTH_SECRET": secret_file.read_text(encoding="utf-8").strip(), "DATABASE_URL": database}


def chainlit_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "chainlit", "run", str(APP), "--headless", "--host", host, "--port", str(port)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medq.ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the chat app")
    run.add_argument("--api-url", required=True)
    run.add_argument("--api-key", default=os.environ.get("MEDQ_API_KEY"), help="default: $MEDQ_API_KEY")
    run.add_argument("--tenant", default="default", help="the API key's tenant (written into thread metadata)")
    run.add_argument("--database", required=True, help="SQLAlchemy URL of the API's database (sync driver)")
    run.add_argument("--users", required=True, help="JSON file of logins (add-user)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8501)
    run.add_argument("--home", default="ui", help="folder for Chainlit's config and files")
    run.add_argument("--model", default="medq-agent", help="API model name: medq-agent or a served model")
    add = sub.add_parser("add-user", help="add or reset a login")
    add.add_argument("users")
    add.add_argument("username")
    add.add_argument("--password")
    args = parser.parse_args(argv)
    if args.command == "add-user":
        from medq.ui.users import add_user

        from medq.errors import MedqError

        try:
            add_user(args.users, args.username, args.password or getpass.getpass(f"password for {args.username}: "))
        except MedqError as exc:
            print(f"medq: error: {exc}", file=sys.stderr)
            return 1
        return 0
    if not args.api_key:
        print("medq: error: --api-key (or MEDQ_API_KEY) is required: create one with "
              "`python -m medq.api keys create --tenant NAME`", file=sys.stderr)
        return 1
    env = prepare_home(Path(args.home).resolve(), args.database)
    env.update({"MEDQ_API_URL": args.api_url, "MEDQ_API_KEY": args.api_key, "MEDQ_UI_TENANT": args.tenant,
                "MEDQ_UI_USERS": str(Path(args.users).resolve()), "MEDQ_UI_MODEL": args.model})
    try:
        return subprocess.call(chainlit_command(args.host, args.port), env=env, cwd=env["CHAINLIT_APP_ROOT"])
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
