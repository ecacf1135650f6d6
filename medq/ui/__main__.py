"""`python -m medq.ui run [ui.key=value ...]` starts the chat app (`chainlit run medq/ui/app.py`) against a running
medq API, configured by `conf/ui/` (composed like `python -m medq.api serve` composes `conf/api/`);
`python -m medq.ui add-user FILE NAME` adds a login (asks for the password, or takes --password);
`python -m medq.ui check` starts the chat app on a scratch database and logs in through its auth endpoint.

    python -m medq.ui run ui.api_url=http://127.0.0.1:8000 ui.api_key=mq-... ui.tenant=default \\
        ui.database_url=sqlite:///ui/chat.db ui.users=ui/users.json ui.port=8501 ui.home=ui/app
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from medq.errors import MedqError, command_status
from medq.ui.settings import UiSettings, write_settings

APP = Path(__file__).with_name("app.py")


def compose_ui_config(overrides: list[str]) -> UiSettings:
    """conf/config.yaml with the ui group, validated like any pipeline config; relative paths made absolute (the
    Chainlit process runs in `ui.home`)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from medq.config import as_dataclass, config_dirs, unknown_key_error, validate_pipeline_config
    from medq.errors import ConfigError

    fields = [f.name for f in dataclasses.fields(UiSettings)]
    for override in overrides:   # a misspelt key as one line with the valid ones (Hydra's message spans many lines)
        key = override.split("=", 1)[0].lstrip("+~")
        if key.startswith("ui.") and key.split(".")[1] not in fields:
            raise unknown_key_error("ui", key.split(".", 1)[1], fields)
    conf_dir, _ = config_dirs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(conf_dir), version_base=None):
            base = compose("config")
            extra = [] if "ui" in base else ["+ui=default"]
            cfg = compose("config", overrides=extra + overrides)
    except Exception as exc:  # anything else Hydra refuses, on one line
        lines = [line.strip() for line in str(exc).splitlines() if line.strip() and "HYDRA_FULL_ERROR" not in line]
        raise ConfigError(" ".join(lines) or type(exc).__name__) from None
    finally:
        GlobalHydra.instance().clear()
    node = validate_pipeline_config(cfg)["ui"]
    return absolute(as_dataclass(UiSettings, {k: v for k, v in node.items() if k != "_target_"}))


def absolute(settings: UiSettings) -> UiSettings:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        url = url.set(database=str(Path(url.database).resolve()))
    return dataclasses.replace(settings, database_url=url.render_as_string(hide_password=False),
                               users=str(Path(settings.users).resolve()), home=str(Path(settings.home).resolve()))


def prepare_app(settings: UiSettings) -> dict[str, str]:
    """Everything the Chainlit process needs before it starts: the app's own database migrated (its own Alembic
    history), Chainlit's app root (its config, with telemetry off, branded), the auth secret, and the resolved `ui`
    node in a file. Returns the process's environment (MEDQ_UI_CONFIG names that file)."""
    from sqlalchemy.engine import make_url

    from medq.ui.data_layer import migrate

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    migrate(settings.database_url)
    home = Path(settings.home)
    env = prepare_home(home)
    env["MEDQ_UI_CONFIG"] = str(write_settings(settings, home / "ui.yaml"))
    return env


def prepare_home(home: Path) -> dict[str, str]:
    """Chainlit's app root (its config, with telemetry off) and the auth secret."""
    home.mkdir(parents=True, exist_ok=True)
    import medq

    # Chainlit runs from its app root: make it import this same medq, whatever the working directory
    source = str(Path(medq.__file__).resolve().parent.parent)
    env = {**os.environ, "CHAINLIT_APP_ROOT": str(home),
           "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("DATABASE_URL", None)   # Chainlit would build a data layer of its own from it
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
    return {**env, "CHAINLIT_AUTH_SECRET": secret_file.read_text(encoding="utf-8").strip()}


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
    import tempfile

    from medq.serve.launcher import ServerProcess, free_port
    from medq.ui.users import add_user

    home = (home or Path(tempfile.mkdtemp(prefix="medq-ui-check-"))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    add_user(home / "users.json", "check", password)
    settings = UiSettings(api_url="http://127.0.0.1:9", api_key="unused", tenant="check",
                          database_url=f"sqlite:///{home / 'check.db'}", users=str(home / "users.json"),
                          home=str(home / "app"), port=free_port())
    env = prepare_app(settings)
    url = f"http://127.0.0.1:{settings.port}"
    server = ServerProcess("the chat app", chainlit_command(settings.host, settings.port), env, home / "ui.log",
                           url + "/", timeout_s, cwd=Path(settings.home))
    try:
        server.start()
        server.wait_healthy()
        check_chat_login(url, "check", password, server.log_path)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m medq.ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the chat app (conf/ui/)")
    run.add_argument("overrides", nargs="*", help="config overrides, e.g. ui.api_url=http://api:8000 ui.port=8501")
    check = sub.add_parser("check", help="start the chat app on a scratch database, log in through its auth "
                                         "endpoint, stop it (what CI runs after the default install)")
    check.add_argument("--home", default=None, help="scratch folder (default: a new temporary one)")
    check.add_argument("--timeout", type=float, default=180)
    add = sub.add_parser("add-user", help="add or reset a login")
    add.add_argument("users")
    add.add_argument("username")
    add.add_argument("--password")
    args = parser.parse_args(argv)
    return command_status(lambda: dispatch(args))


def dispatch(args: argparse.Namespace) -> int:
    if args.command == "add-user":
        from medq.ui.users import add_user

        add_user(args.users, args.username, args.password or getpass.getpass(f"password for {args.username}: "))
        return 0
    if args.command == "check":
        check_chat_app(Path(args.home) if args.home else None, args.timeout)
        print("chat app: login ok", file=sys.stderr)
        return 0
    settings = compose_ui_config(args.overrides)
    if not settings.api_key:
        raise MedqError("ui.api_key is not set (or MEDQ_API_KEY): create one with "
                        "`python -m medq.api keys create --tenant NAME`")
    env = prepare_app(settings)
    return subprocess.call(chainlit_command(settings.host, settings.port), env=env, cwd=settings.home)


if __name__ == "__main__":
    sys.exit(main())
