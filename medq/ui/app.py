"""The medq chat app (Chainlit): a client of the medq API over HTTP, so the app and the API behave the same.

Run by `python -m medq.ui run` (which composes `conf/ui/`, migrates the app's own database, writes the resolved
`ui` node to a file and starts `chainlit run` on this file with that file's path in `MEDQ_UI_CONFIG`; Chainlit's
own `CHAINLIT_APP_ROOT` and `CHAINLIT_AUTH_SECRET` travel beside it). Nothing else is read from the environment.

A logged-in user is a patient: the username is the patient id the API remembers facts for. Each thread is one API
session (session id = thread id), so resuming a thread continues the session the API stored. Threads live in the
app's own database (`ui.database_url`), tagged with tenant, patient and session; `POST /medq/erasure` (called by the
API's erasure, `api.erasure_hooks`) deletes a patient's threads, steps, elements, feedback, user row and login.
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any

import chainlit as cl
import httpx
from chainlit.server import app as server
from fastapi import Request
from fastapi.responses import JSONResponse
from httpx_sse import aconnect_sse
from fastapi.concurrency import run_in_threadpool

from medq.ui import data_layer as tables
from medq.ui.settings import load_settings
from medq.ui.users import check_password, load_users, remove_user

if not os.environ.get("MEDQ_UI_CONFIG"):
    raise RuntimeError("MEDQ_UI_CONFIG is not set: start the chat app with `python -m medq.ui run` (conf/ui/)")
SETTINGS = load_settings(os.environ["MEDQ_UI_CONFIG"])
API_URL = SETTINGS.api_url.rstrip("/")
TENANT = SETTINGS.tenant
MODEL = SETTINGS.model
PROGRESS_WORDS = {"received": "已收到", "reading_memory": "读取病历记忆", "checking_red_flags": "危急情况筛查",
                  "extracting_facts": "提取病史信息", "retrieving": "检索医学资料", "drafting": "生成回答",
                  "auditing": "安全审核", "saving": "保存记忆"}
OUTCOME_WORDS = {"answered": "通过", "refined": "修改后通过", "fallback": "未通过：原回答已撤回",
                 "referral": "危急情况：建议立即就医", "unsupported_language": "仅支持中文"}
FACT_WORDS = {"allergy": "过敏", "condition": "疾病", "medication": "用药", "pregnancy": "怀孕", "lactation": "哺乳",
              "age": "年龄", "sex": "性别", "weight": "体重", "egfr": "肾小球滤过率", "ckd_stage": "慢性肾病分期",
              "trimester": "孕周期", "occupation": "职业"}
STATUS_WORDS = {"active": "有效", "stopped": "已停用", "denied": "已否认", "disputed": "待确认，仍按原记录核查"}
# what deleting a fact of this kind stops the assistant from doing (asked before a delete)
DELETE_MEANS = {"allergy": "助手将不再据此拦截可能引起过敏的药物",
                "condition": "助手将不再据此检查对这种疾病禁用或慎用的药物",
                "medication": "助手将不再据此检查与这种药物的相互作用",
                "pregnancy": "助手将不再按孕期用药规则检查建议", "lactation": "助手将不再按哺乳期用药规则检查建议",
                "age": "助手将不再按年龄检查用药"}
PRODUCT = "medq 医疗助手"
DISCLAIMER = ("您好，我是 medq 医疗助手。我的建议仅供参考，不能替代医生的诊断和治疗；用药前请咨询医生或药师。"
              "如有胸痛、呼吸困难、意识不清等紧急情况，请立即拨打 120。")
REFERRAL_BANNER = "### 紧急情况：请立即就医"


def api() -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=API_URL, headers={"Authorization": f"Bearer {SETTINGS.api_key or ''}"},
                             timeout=120)


# thread and user ids erased while this process runs: a live session of an erased patient (its open socket, its
# still valid login cookie) must not write them back (Chainlit upserts the thread when the socket closes)
ERASED: dict[str, set[str]] = {"threads": set(), "users": set()}


def is_login(patient: str | None) -> bool:
    """The login file is who may use the app; an erased patient's login is gone from it."""
    return bool(patient) and patient in load_users(SETTINGS.users)


@cl.data_layer
def data_layer() -> Any:
    from chainlit.data.sql_alchemy import SQLAlchemyDataLayer

    class MedqDataLayer(SQLAlchemyDataLayer):
        """Chainlit's SQLAlchemy data layer, refusing every write that would bring back an erased patient: the user
        row of a username that is no login, a thread of an erased thread id, user or untagged-login patient, and the
        steps, elements and feedback of such threads."""

        async def create_user(self, user: Any) -> Any:
            if not is_login(user.identifier):
                return None
            return await super().create_user(user)

        async def update_thread(self, thread_id: str, name: str | None = None, user_id: str | None = None,
                                metadata: dict | None = None, tags: list[str] | None = None) -> None:
            patient = (metadata or {}).get("medq_patient_id")
            if (thread_id in ERASED["threads"] or user_id in ERASED["users"]
                    or (patient is not None and not is_login(patient))):
                ERASED["threads"].add(thread_id)
                return
            await super().update_thread(thread_id, name, user_id, metadata, tags)

        async def create_step(self, step_dict: Any) -> None:
            if step_dict.get("threadId") in ERASED["threads"]:
                return
            await super().create_step(step_dict)

        async def create_element(self, element: Any) -> None:
            if getattr(element, "thread_id", None) in ERASED["threads"]:
                return
            await super().create_element(element)

        async def upsert_feedback(self, feedback: Any) -> str:
            if feedback.threadId in ERASED["threads"]:
                return feedback.id or ""
            return await super().upsert_feedback(feedback)

    return MedqDataLayer(conninfo=tables.async_url(SETTINGS.database_url))


_engine = None


def erase_patient(tenant: str, patient_id: str) -> dict[str, Any]:
    """This app's part of a patient's erasure: the login first (so no new session starts), the rows in its database
    (then the files scrubbed)."""
    global _engine
    if _engine is None:
        _engine = tables.open_engine(SETTINGS.database_url)
    # the login file holds the usernames (= patient ids) of this app's one tenant
    logins = remove_user(SETTINGS.users, patient_id) if tenant == TENANT else 0
    counts: dict[str, Any] = tables.erase_patient(_engine, tenant, patient_id, record=ERASED)
    counts["logins"] = logins
    return {"erased": counts, "storage": tables.scrub(_engine)}


async def erasure(request: Request) -> JSONResponse:
    """`POST /medq/erasure {"tenant", "patient_id"}` with `Authorization: Bearer <ui.erasure_key>`: what the API
    calls after it erased a patient (`api.erasure_hooks`). 200 with the counts (zeros when nothing was left: a
    retry is safe); 401 for a wrong key, 503 when no key is configured, 422 for a bad body."""
    from medq.ids import MAX_TENANT_CHARS, InvalidId, check_id

    def error(status: int, code: str, message: str) -> JSONResponse:
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)

    if not SETTINGS.erasure_key:
        return error(503, "erasure_not_configured", "the chat app has no ui.erasure_key: erasure calls are refused")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), SETTINGS.erasure_key.encode()):
        return error(401, "unauthorized", "wrong or missing erasure key")
    try:
        body = await request.json()
        tenant = check_id("tenant", body.get("tenant"), MAX_TENANT_CHARS)
        patient_id = check_id("patient_id", body.get("patient_id"))
    except (ValueError, AttributeError, InvalidId) as exc:
        return error(422, "invalid_request", f"body must be {{\"tenant\": ID, \"patient_id\": ID}}: {exc}")
    return JSONResponse(await run_in_threadpool(erase_patient, tenant, patient_id))


# Chainlit's server is a FastAPI app; its catch-all route answers GET only, so this POST route is reached
server.add_api_route("/medq/erasure", erasure, methods=["POST"], include_in_schema=False)


@cl.password_auth_callback
def login(username: str, password: str) -> cl.User | None:
    users = load_users(SETTINGS.users)
    if username in users and check_password(password, users[username]):
        # the tenant lets erasure find this login (the username is the patient id)
        return cl.User(identifier=username, metadata={"role": "patient", "provider": "credentials",
                                                      "medq_tenant": TENANT})
    return None


def patient_id() -> str:
    user = cl.user_session.get("user")
    return user.identifier if user else "anonymous"


async def remember_thread() -> None:
    """Tag the thread with tenant, patient and session so erasure finds it (and resume restores them)."""
    session_id = cl.context.session.thread_id
    cl.user_session.set("medq_session_id", session_id)
    cl.user_session.set("medq_tenant", TENANT)
    cl.user_session.set("medq_patient_id", patient_id())
    from chainlit.data import get_data_layer

    layer = get_data_layer()
    if layer is not None:
        await layer.update_thread(session_id, metadata={"medq_tenant": TENANT, "medq_patient_id": patient_id(),
                                                        "medq_session_id": session_id})


ERASED_WORDS = "您的账户已删除，无法继续对话。"


@cl.on_chat_start
async def start() -> None:
    if not is_login(patient_id()):   # erased while logged in (the login cookie outlives the login)
        await cl.Message(content=ERASED_WORDS, author=PRODUCT).send()
        return
    await remember_thread()
    await cl.Message(content=DISCLAIMER, author=PRODUCT).send()


@cl.on_chat_resume
async def resume(thread: dict) -> None:
    # the API stored the session's turns: the next message continues them (session id = this thread's id)
    cl.user_session.set("medq_session_id", thread["id"])
    cl.user_session.set("medq_patient_id", patient_id())


@cl.on_message
async def on_message(message: cl.Message) -> None:
    if not is_login(patient_id()):   # an erased patient's open session asks nothing more of the API
        await cl.Message(content=ERASED_WORDS, author=PRODUCT).send()
        return
    session_id = cl.user_session.get("medq_session_id") or cl.context.session.thread_id
    body = {"model": MODEL, "user": patient_id(), "stream": True, "metadata": {"session_id": session_id},
            "messages": [{"role": "user", "content": message.content}]}
    answer = cl.Message(content="")
    extension: dict[str, Any] = {}
    async with cl.Step(name="处理进度", type="run") as progress:
        progress.output = ""
        try:
            async with api() as client, aconnect_sse(client, "POST", "/v1/chat/completions", json=body) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    error = source.response.json().get("error", {})
                    progress.output = f"失败：{error.get('message', source.response.status_code)}"
                    await cl.Message(content=f"抱歉，服务暂时不可用（{error.get('code', 'error')}）。").send()
                    return
                async for event in source.aiter_sse():
                    if event.data == "[DONE]":
                        break
                    chunk = json.loads(event.data)
                    if "error" in chunk:
                        await cl.Message(content=f"抱歉，出错了：{chunk['error'].get('message', '')}").send()
                        return
                    medq = chunk.get("medq") or {}
                    if "progress" in medq:
                        progress.output += PROGRESS_WORDS.get(medq["progress"], medq["progress"]) + " ✓\n"
                        await progress.update()
                        continue
                    delta = (chunk.get("choices") or [{}])[0].get("delta", {}) if chunk.get("choices") else {}
                    if delta.get("content"):
                        await answer.stream_token(delta["content"])
                    if medq:
                        extension = medq
        except httpx.HTTPError as exc:
            progress.output += f"无法连接 API：{type(exc).__name__}"
            await cl.Message(content="抱歉，无法连接到服务。").send()
            return
    if extension.get("outcome") == "referral":
        # an emergency must not look like any other answer, and the previous answer's evidence must not stay open
        await cl.ElementSidebar.set_elements([])
        answer.author = "紧急提醒"
        advice = "\n>\n".join(f"> **{line}**" for line in answer.content.splitlines() if line.strip())
        answer.content = f"{REFERRAL_BANNER}\n\n{advice}"
        await show_audit(extension)
        await answer.send()
        return
    await show_evidence(extension, answer)
    await show_audit(extension)
    await answer.send()
    await show_facts()


async def show_evidence(extension: dict[str, Any], answer: cl.Message) -> None:
    """[E1]… in full, each under its own label, inside the collapsed "检索证据" step. (As Chainlit side elements they
    opened a side panel by themselves, titled with the first name while listing every passage, and it stayed open
    beside the next answer, an emergency referral included.)"""
    evidence = extension.get("evidence") or []
    async with cl.Step(name="检索证据", type="retrieval", default_open=False) as step:
        if not evidence:
            step.output = "没有检索到资料（未配置检索索引时，回答不引用资料）。"
            return
        blocks = []
        for number, item in enumerate(evidence, start=1):
            label = str(item.get("id") or item.get("evidence_id") or f"E{number}").strip("[]")
            text = str(item.get("text") or item.get("content") or "")
            blocks.append(f"**[{label}]** {text}")
        step.output = "\n\n".join(blocks)


async def show_audit(extension: dict[str, Any]) -> None:
    async with cl.Step(name="安全审核", type="tool") as step:
        outcome = extension.get("outcome", "unknown")
        findings = extension.get("findings") or []
        lines = [f"结论：{OUTCOME_WORDS.get(outcome, outcome)}（修改轮数 {extension.get('refine_rounds', 0)}）"]
        for f in findings:   # the auditor's CDS-Hooks card as it is, else the finding's own sentence
            card = f.get("card") if isinstance(f.get("card"), dict) else {}
            text = card.get("summary") or f.get("message") or f.get("reason") or f.get("rule")
            source = (card.get("source") or {}).get("label")
            lines.append(f"- [{card['indicator']}] {text}" + (f"（{source}）" if source else "") if card.get("indicator")
                         else f"- {text}")
        step.output = "\n".join(lines)


async def show_facts() -> None:
    async with api() as client:
        response = await client.get(f"/v1/patients/{patient_id()}/memory")
    if response.status_code != 200:
        return
    facts = response.json()["facts"]
    if not facts:
        return
    lines, actions = [], []
    for fact in facts:
        status = STATUS_WORDS.get(fact["status"], fact["status"])
        label = f"{FACT_WORDS.get(fact['kind'], fact['kind'])}：{fact['value']}（{status}）"
        lines.append(f"- {label}")
        actions.append(cl.Action(name="delete_fact", payload={"id": fact["id"], "kind": fact["kind"],
                                                              "value": fact["value"]}, label=f"删除 {fact['value']}"))
        actions.append(cl.Action(name="correct_fact", payload={"id": fact["id"], "value": fact["value"]},
                                 label=f"更正 {fact['value']}"))
    await cl.Message(content="我记住的您的信息：\n" + "\n".join(lines), actions=actions, author="记忆").send()


@cl.action_callback("delete_fact")
async def delete_fact(action: cl.Action) -> None:
    """Asks first, saying what the deletion means: a deleted allergy is one the safety check no longer knows."""
    kind, value = action.payload.get("kind", ""), action.payload.get("value", "")
    means = DELETE_MEANS.get(kind, "助手将不再记得这条信息")
    question = (f"确定要删除“{FACT_WORDS.get(kind, kind)}：{value}”吗？删除后{means}。"
                f"如果只是记录有误，请选择“更正”；如果不确定，请先咨询医生。")
    choice = await cl.AskActionMessage(content=question, timeout=300, actions=[
        cl.Action(name="confirm_delete", payload={"confirm": True}, label="确定删除"),
        cl.Action(name="keep_fact", payload={"confirm": False}, label="保留")]).send()
    if not choice or not choice.get("payload", {}).get("confirm"):
        await cl.Message(content=f"已保留“{value}”，没有删除。").send()
        return
    async with api() as client:
        response = await client.delete(f"/v1/patients/{patient_id()}/facts/{action.payload['id']}",
                                       params={"changed_by": patient_id(), "role": "patient"})
    await cl.Message(content=f"已删除“{value}”。" if response.status_code == 200 else
                     f"删除失败：{response.json().get('error', {}).get('message', response.status_code)}").send()
    await show_facts()


@cl.action_callback("correct_fact")
async def correct_fact(action: cl.Action) -> None:
    reply = await cl.AskUserMessage(content=f"请输入“{action.payload['value']}”的正确内容：", timeout=300).send()
    if not reply:
        return
    async with api() as client:
        response = await client.patch(f"/v1/patients/{patient_id()}/facts/{action.payload['id']}",
                                      json={"changed_by": patient_id(), "role": "patient",
                                            "value": reply["output"].strip()})
    await cl.Message(content="已更正。" if response.status_code == 200 else f"更正失败：{response.text}").send()
    await show_facts()
