"""`python -m medq.ui run ...` starts the chat app (`chainlit run medq/ui/app.py`) against a running medq API;
`python -m medq.ui add-user FILE NAME` adds a login (asks for the password, or takes --password);
`python -m medq.ui check` starts the chat app on a scratch database and logs in through its auth endpoint.

    python -m medq.ui run --api-url http://127.0.0.1:8000 --api-key mq-... --tenant default \\
        --database sqlite:///memory.db --users users.json --port 8501 --home ./ui
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
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
    text = text.replace("enable_telemetry = true", "enable_telemetry = false")
    config.write_text(brand_config(text), encoding="utf-8")
    brand_home(home)
    secret_file = home / "auth_secret"
    if not secret_file.is_file():
        secret_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        secret_file.chmod(0o600)
    engine = create_engine(database)
    create_chainlit_tables(engine)
    engine.dispose()
    return {**env, "CHAINLIT_AUTH_SECRET": secret_file.read_text(encoding="utf-8").strip(), "DATABASE_URL": database}


PRODUCT = "medq 医疗助手"
UI_SETTINGS = {"name": f'"{PRODUCT}"', "language": '"zh-CN"', "custom_js": '"/public/medq.js"',
               "description": '"中文医疗健康助手：仅供参考，不能替代医生诊断；紧急情况请拨打 120"'}
# the login form asks for a user name (the patient id), not an e-mail; a wrong password gets a Chinese message
LOGIN_WORDS = {"title": f"登录 {PRODUCT}", "form": {"email": {"label": "用户名", "placeholder": "您的用户名",
                                                          "required": "请输入用户名"}},
               "errors": {"credentialssignin": "用户名或密码不正确，请重试。",
                          "credentialsSignin": "用户名或密码不正确，请重试。"}}


def brand_config(text: str) -> str:
    """Chainlit's [UI] settings medq sets (product name, Chinese UI, the toast fix script), idempotently."""
    for key, value in UI_SETTINGS.items():
        line = f"{key} = {value}"
        pattern = re.compile(rf"^#?\s*{key} = .*$", re.MULTILINE)
        text, found = pattern.subn(lambda _m: line, text, count=1)
        if not found:
            text = text.replace("[UI]\n", f"[UI]\n{line}\n", 1)
    return text


def brand_home(home: Path) -> None:
    """The login words in every translation Chainlit may pick, the disclaimer (chainlit.md), public/medq.js."""
    import json
    import shutil

    def merge(into: dict, words: dict) -> None:
        for key, value in words.items():
            if isinstance(value, dict):
                merge(into.setdefault(key, {}), value)
            else:
                into[key] = value

    for path in (home / ".chainlit" / "translations").glob("*.json"):
        if not path.name.startswith(("zh", "en")):
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        merge(data.setdefault("auth", {}).setdefault("login", {}), LOGIN_WORDS)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    assets = Path(__file__).with_name("assets")
    (home / "public").mkdir(exist_ok=True)
    shutil.copyfile(assets / "medq.js", home / "public" / "medq.js")
    shutil.copyfile(assets / "chainlit.md", home / "chainlit.md")


def check_chat_login(url: str, username: str, password: str, log_path: Path | None = None) -> None:
    """A real login through the chat app's auth endpoint (POST /login), then GET /user with its cookie: the user must
    come back persisted (with an `id`), which proves the data layer works too. Chainlit logs data-layer failures
    (e.g. SQLAlchemy's async mode without `greenlet`) and carries on, so a page that loads is not a chat app that
    lets anyone in. Raises MedqError with the cause (the last error line of the app's log)."""
    import httpx

    from medq.errors import MedqError

    def cause() -> str:
        if log_path is None or not log_path.is_file():
            return ""
        import time

        exception_line = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\w*: ")   # "ImportError: No module …"
        for _ in range(20):   # the server logs the traceback just after it sent the 500
            lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if exception_line.match(ln)]
            if lines:
                break
            time.sleep(0.1)
        return f"; {log_path}: {lines[-1].strip()}" if lines else f"; see {log_path}"

    with httpx.Client(base_url=url, timeout=30) as client:
        response = client.post("/login", data={"username": username, "password": password})
        if response.status_code != 200 or not response.json().get("success"):
            raise MedqError(f"chat app at {url}: login as {username!r} failed (HTTP {response.status_code})"
                            f"{cause()}")
        user = client.get("/user")
        body = user.json() if user.headers.get("content-type", "").startswith("application/json") else {}
        if user.status_code != 200 or not body.get("id"):
            raise MedqError(f"chat app at {url}: logged in as {username!r} but the login was not stored (its "
                            f"database layer failed){cause()}")


def chainlit_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "chainlit", "run", str(APP), "--headless", "--host", host, "--port", str(port)]


def check_chat_app(home: Path | None = None, timeout_s: float = 180) -> None:
    """Start the chat app (no API needed to log in) on a scratch SQLite database with a random login, run
    `check_chat_login`, stop it. MedqError if it does not come up or the login fails."""
    import signal
    import socket
    import tempfile
    import time

    import httpx

    from medq.errors import MedqError
    from medq.ui.users import add_user

    home = home or Path(tempfile.mkdtemp(prefix="medq-ui-check-"))
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    add_user(home / "users.json", "check", password)
    env = prepare_home(home / "app", f"sqlite:///{home / 'check.db'}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env.update({"MEDQ_API_URL": "http://127.0.0.1:9", "MEDQ_API_KEY": "unused", "MEDQ_UI_TENANT": "check",
                "MEDQ_UI_USERS": str(home / "users.json")})
    url, log_path = f"http://127.0.0.1:{port}", home / "ui.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(chainlit_command("127.0.0.1", port), env=env, cwd=env["CHAINLIT_APP_ROOT"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                raise MedqError(f"chat app exited with {process.returncode} while starting; log {log_path}")
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise MedqError(f"chat app did not answer within {timeout_s:.0f} s; log {log_path}")
            time.sleep(0.5)
        check_chat_login(url, "check", password, log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


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
    check = sub.add_parser("check", help="start the chat app on a scratch database, log in through its auth "
                                         "endpoint, stop it (what CI runs after the default install)")
    check.add_argument("--home", default=None, help="scratch folder (default: a new temporary one)")
    check.add_argument("--timeout", type=float, default=180)
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
    if args.command == "check":
        from medq.errors import MedqError

        try:
            check_chat_app(Path(args.home) if args.home else None, args.timeout)
        except MedqError as exc:
            print(f"medq: error: {exc}", file=sys.stderr)
            return 1
        print("chat app: login ok", file=sys.stderr)
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
