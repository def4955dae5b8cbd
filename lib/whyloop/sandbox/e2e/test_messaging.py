"""Messaging and threading: threads, messages, history, switching and validation."""

from __future__ import annotations

import pytest

from whyloop.sandbox.e2e._support import create_thread, expect, expect_error, post_message

pytestmark = [pytest.mark.category("Messaging & Threading"), pytest.mark.priority(1)]


def test_thread_creation(client, targets, new_user) -> None:
    """A new thread is returned with an id and appears in the user's list."""
    user = new_user()
    thread = create_thread(client, targets, user, "Release checklist")
    assert thread.get("id") and thread.get("title") == "Release checklist", thread
    listed = expect(
        client.get(f"{targets.backend}/api/threads", headers=user.headers), 200, "list threads"
    )
    assert thread["id"] in [t["id"] for t in listed["threads"]], "new thread is not listed"


def test_message_send(client, targets, new_user) -> None:
    """A posted message comes back with an id, the user role and its content."""
    user = new_user()
    thread = create_thread(client, targets, user, "Support")
    message = post_message(client, targets, user, thread["id"], "Hello, agent!")
    assert message.get("id") and message.get("role") == "user", message
    assert message.get("content") == "Hello, agent!", message


def test_message_history(client, targets, new_user) -> None:
    """A thread's history returns its messages in the order they were sent."""
    user = new_user()
    thread = create_thread(client, targets, user, "History")
    sent = ["first", "second", "third"]
    for text in sent:
        post_message(client, targets, user, thread["id"], text)
    history = expect(
        client.get(f"{targets.backend}/api/threads/{thread['id']}/messages", headers=user.headers),
        200,
        "history",
    )
    assert [m["content"] for m in history["messages"]] == sent


def test_thread_switching(client, targets, new_user) -> None:
    """Switching threads shows each thread's own messages only."""
    user = new_user()
    first = create_thread(client, targets, user, "Thread A")
    second = create_thread(client, targets, user, "Thread B")
    post_message(client, targets, user, first["id"], "in A")
    post_message(client, targets, user, second["id"], "in B")
    for thread, text in ((first, "in A"), (second, "in B")):
        shown = expect(
            client.get(f"{targets.backend}/api/threads/{thread['id']}", headers=user.headers),
            200,
            f"switch to {thread['title']}",
        )
        assert shown["id"] == thread["id"], shown
        assert [m["content"] for m in shown["messages"]] == [text], shown["messages"]


def test_message_validation(client, targets, new_user) -> None:
    """Invalid bodies are 422 with field errors; malformed JSON is 400."""
    user = new_user()
    url = f"{targets.backend}/api/threads/thr_does_not_matter/messages"
    for body in ({"content": ""}, {"content": 5}, {}, {"content": "x" * 10_001}):
        err = expect_error(
            client.post(url, json=body, headers=user.headers), (422,), f"message {str(body)[:40]}"
        )
        assert any(e.get("field") == "content" for e in err.get("errors", [])), err
    bad_title = expect_error(
        client.post(f"{targets.backend}/api/threads", json={"title": ""}, headers=user.headers),
        (422,),
        "empty title",
    )
    assert any(e.get("field") == "title" for e in bad_title.get("errors", [])), bad_title
    expect_error(
        client.post(
            url,
            content=b'{"content": "unterminated',
            headers={**user.headers, "Content-Type": "application/json"},
        ),
        (400,),
        "malformed JSON",
    )
