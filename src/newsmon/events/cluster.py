"""Online event assignment: each story joins the event its evidence matches best, or starts one.

A story is compared with the *candidate* events only: those sharing a selective key with it
within the time window, found through an index (key x day), never by a scan. The score is the
cosine of the story's and the event's key vectors, each key weighted by its salience and by how
rare it is among the events of the window (``1 / (1 + ln(1 + df))``: "NATO" tells little,
"Przewodów" a lot), times a time factor (1 inside the event's span, down to 0.5 at the edge of
the window). A story joins when the best score reaches the threshold and at least
``min_shared`` keys are shared. Every link keeps why: the score, its parts and the shared keys.

Splits: after a batch, each event that grew is checked again: a member whose score against the
rest of its event (leave-one-out) fell under ``split_threshold`` leaves it, and is placed again
like a new story (another event, or its own). Every split is recorded with its scores.

The algorithm talks to a :class:`Backend`: PostgreSQL (``store``) or memory (``MemoryBackend``,
for the evaluation and tests); both see the same decisions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from newsmon.events.evidence import KIND_OF, StoryEvidence


@dataclass(frozen=True)
class Params:
    """Thresholds of the event assignment (Settings: NEWSMON_EVENT_*)."""

    window_hours: float = 48.0  # a story and an event further apart than this never meet
    threshold: float = 0.30  # score needed to join an event
    min_shared: int = 2  # keys a story must share with the event
    max_span_hours: float = 96.0  # an event never grows beyond this span from its first story
    split_threshold: float = 0.15  # a member scoring under this against the rest of its event leaves
    df_cap: int = 200  # events counted per key (rarer is what matters)
    candidate_df: int = 40  # keys in more events of the window than this propose no candidates
    max_candidates: int = 40  # candidates scored per story (the best by shared rare keys)

    @property
    def window_days(self) -> int:
        return max(1, math.ceil(self.window_hours / 24))


def day_of(when: datetime) -> int:
    """The index's time bucket: days since 1970-01-01 (UTC)."""
    return int(when.timestamp() // 86400)


def idf(df: int) -> float:
    return 1.0 / (1.0 + math.log1p(df))


@dataclass
class EventState:
    """An event as the assignment sees it; ``id`` < 0 until stored."""

    id: int
    first_seen: datetime
    last_seen: datetime
    centroid: dict[str, float]  # sum of the members' key vectors
    stories: int
    title: str | None = None
    members: dict[int, tuple[dict[str, float], datetime]] | None = None  # loaded for split checks


@dataclass
class Link:
    """One story placed in one event, and why."""

    story_id: int
    event_id: int
    score: float | None
    why: dict[str, Any]
    evidence: StoryEvidence


@dataclass
class Split:
    """A member that left its event: from where, to where, and the scores that decided it."""

    story_id: int
    from_event: int
    to_event: int
    why: dict[str, Any]


@dataclass
class Plan:
    """The decisions of one batch, for the backend to store."""

    new: list[EventState] = field(default_factory=list)
    changed: dict[int, EventState] = field(default_factory=dict)
    links: list[Link] = field(default_factory=list)
    index: set[tuple[str, int, int]] = field(default_factory=set)  # (key, day, event id)
    splits: list[Split] = field(default_factory=list)


class Backend(Protocol):
    def lookup(self, keys: Sequence[str], low: int, high: int, cap: int) -> dict[str, set[int]]:
        """Per key, the events (at most ``cap``) indexed under it on days ``low``..``high``."""

    def load(self, ids: Iterable[int]) -> dict[int, EventState]:
        """The events ``ids`` (centroids, spans)."""

    def members(self, ids: Iterable[int]) -> dict[int, dict[int, tuple[dict[str, float], datetime]]]:
        """Per event, its members: story id -> (key vector, seen at)."""

    def apply(self, plan: Plan, stories: Sequence[StoryEvidence]) -> dict[int, int]:
        """Store the plan; returns {temporary id: stored id} for the new events."""


def _vector(keys: dict[str, float], df: dict[str, int]) -> tuple[dict[str, float], float]:
    vec = {k: w * idf(df.get(k, 0)) for k, w in keys.items()}
    return vec, math.sqrt(sum(v * v for v in vec.values()))


class _Scorer:
    def __init__(self, params: Params, df: dict[str, int], labels: dict[str, str]) -> None:
        self.params, self.df, self.labels = params, df, labels

    def score(self, story: StoryEvidence, keys: dict[str, float], first: datetime, last: datetime
              ) -> tuple[float, dict[str, Any]] | None:
        """The score of ``story`` against an event (its vector ``keys`` and span), with why;
        None when out of the window or span."""
        p = self.params
        if story.seen_at < first:
            gap = (first - story.seen_at).total_seconds() / 3600
        elif story.seen_at > last:
            gap = (story.seen_at - last).total_seconds() / 3600
        else:
            gap = 0.0
        span = (max(last, story.seen_at) - min(first, story.seen_at)).total_seconds() / 3600
        if gap > p.window_hours or span > p.max_span_hours:
            return None
        s, s_norm = _vector(story.keys, self.df)
        c, c_norm = _vector(keys, self.df)
        if not s_norm or not c_norm:
            return None
        parts = {k: s[k] * c[k] for k in s if k in c}
        cosine = sum(parts.values()) / (s_norm * c_norm)
        factor = 1.0 - 0.5 * min(1.0, gap / p.window_hours) if p.window_hours else 1.0
        shared = sorted(parts.items(), key=lambda kv: -kv[1])
        why = {"score": round(cosine * factor, 4), "cosine": round(cosine, 4),
               "time_factor": round(factor, 3), "hours_apart": round(gap, 1),
               "shared_keys": len(parts),
               "shared": [{"key": k, "kind": KIND_OF.get(k[0], "?"), "label": self.labels.get(k, k[2:]),
                           "events_with_key": self.df.get(k, 0),
                           "contribution": round(v / (s_norm * c_norm), 4)} for k, v in shared[:8]]}
        return cosine * factor, why

    def joinable(self, why: dict[str, Any]) -> bool:
        specific = sum(1 for s in why["shared"] if s["kind"] in ("entity", "name", "concept", "number"))
        return (why["score"] >= self.params.threshold and why["shared_keys"] >= self.params.min_shared
                and specific >= 1)


def assign(stories: Sequence[StoryEvidence], backend: Backend, params: Params | None = None
           ) -> list[Link]:
    """Place ``stories`` in events (online, in time order, a day's worth at a time) and store
    the decisions through ``backend``. Returns the links, with the stored event ids."""
    params = params or Params()
    ordered = sorted(stories, key=lambda s: (s.seen_at, s.story_id))
    links: list[Link] = []
    chunk: list[StoryEvidence] = []
    for story in ordered:
        if chunk and day_of(story.seen_at) != day_of(chunk[0].seen_at):
            links += _assign_chunk(chunk, backend, params)
            chunk = []
        chunk.append(story)
    if chunk:
        links += _assign_chunk(chunk, backend, params)
    return links


def _assign_chunk(stories: Sequence[StoryEvidence], backend: Backend, params: Params) -> list[Link]:
    low = day_of(stories[0].seen_at) - params.window_days
    high = day_of(stories[-1].seen_at) + params.window_days
    story_keys = sorted({k for s in stories for k in s.keys})
    found = backend.lookup(story_keys, low, high, params.df_cap)
    candidate_ids = {e for k, ids in found.items() if len(ids) <= params.candidate_df for e in ids}
    states = backend.load(candidate_ids)
    extra = sorted({k for st in states.values() for k in st.centroid} - set(story_keys))
    found.update(backend.lookup(extra, low, high, params.df_cap))
    index: dict[str, set[int]] = {k: set(v) for k, v in found.items()}  # grows with this chunk's events
    labels = {k: v for s in stories for k, v in s.labels.items()}
    plan = Plan()
    next_id = -1
    links: list[Link] = []

    class _Counts(dict):  # events per key in the window, read from the growing index on demand
        def get(self, key: str, default: int = 0) -> int:  # type: ignore[override]
            ids = index.get(key)
            return default if ids is None else min(len(ids), params.df_cap)

    def df() -> dict[str, int]:
        return _Counts()

    def place(story: StoryEvidence, exclude: int | None = None) -> Link:
        nonlocal next_id
        counts = df()
        scorer = _Scorer(params, counts, labels)
        pool: dict[int, float] = {}
        for key, weight in story.keys.items():
            ids = index.get(key, set())
            if len(ids) <= params.candidate_df:
                for event_id in ids:
                    if event_id != exclude:
                        pool[event_id] = pool.get(event_id, 0.0) + weight * idf(len(ids))
        best: tuple[float, int, dict[str, Any]] | None = None
        second: tuple[float, int] | None = None
        for event_id in sorted(pool, key=lambda e: (-pool[e], e))[:params.max_candidates]:
            state = states.get(event_id)
            if state is None:
                continue
            result = scorer.score(story, state.centroid, state.first_seen, state.last_seen)
            if result is None:
                continue
            value, why = result
            if best is None or value > best[0]:
                second = (best[0], best[1]) if best else second
                best = (value, event_id, why)
            elif second is None or value > second[0]:
                second = (value, event_id)
        if best is not None and scorer.joinable(best[2]):
            value, event_id, why = best
            why = {"decision": "joined", **why, "candidates": len(pool),
                   "runner_up": {"event": second[1], "score": round(second[0], 4)} if second else None}
            state = states[event_id]
            for key, weight in story.keys.items():
                state.centroid[key] = state.centroid.get(key, 0.0) + weight
            state.first_seen, state.last_seen = (min(state.first_seen, story.seen_at),
                                                 max(state.last_seen, story.seen_at))
            state.stories += 1
            if state.members is not None:
                state.members[story.story_id] = (dict(story.keys), story.seen_at)
            if event_id > 0:
                plan.changed[event_id] = state
        else:
            event_id, next_id, value = next_id, next_id - 1, None
            why = {"decision": "new", "candidates": len(pool),
                   "best": {"event": best[1], **{k: best[2][k] for k in ("score", "shared_keys")}}
                   if best else None, "threshold": params.threshold}
            state = EventState(event_id, story.seen_at, story.seen_at, dict(story.keys), 1,
                               title=None, members={story.story_id: (dict(story.keys), story.seen_at)})
            states[event_id] = state
            plan.new.append(state)
        day = day_of(story.seen_at)
        for key in story.keys:
            index.setdefault(key, set()).add(event_id)
            plan.index.add((key, day, event_id))
        return Link(story.story_id, event_id, None if value is None else round(value, 4), why, story)

    for story in stories:
        links.append(place(story))

    # splits: members that the rest of their (grown) event no longer supports leave it
    grown = sorted({link.event_id for link in links
                    if link.event_id > 0 and link.why["decision"] == "joined"})
    if grown:
        for event_id, members in backend.members(grown).items():
            state = states[event_id]
            members.update({lk.story_id: (dict(lk.evidence.keys), lk.evidence.seen_at)
                            for lk in links if lk.event_id == event_id})
            state.members = members
        by_story = {s.story_id: s for s in stories}
        for event_id in grown:
            state = states[event_id]
            members = state.members or {}
            if len(members) < 3:
                continue
            scorer = _Scorer(params, df(), labels)
            leaving: list[tuple[int, dict[str, Any]]] = []
            for story_id, (keys, seen) in sorted(members.items(), key=lambda m: (m[1][1], m[0])):
                rest = dict(state.centroid)
                for key, weight in keys.items():
                    rest[key] = rest.get(key, 0.0) - weight
                rest = {k: v for k, v in rest.items() if v > 1e-9}
                others = [s for sid, (_, s) in members.items() if sid != story_id]
                probe = StoryEvidence(story_id, seen, None, keys)
                result = scorer.score(probe, rest, min(others), max(others))
                value = result[0] if result else 0.0
                if value < params.split_threshold:
                    leaving.append((story_id, {"leave_one_out_score": round(value, 4),
                                               "split_threshold": params.split_threshold,
                                               "members_before": len(members),
                                               "against_rest": result[1] if result else None}))
            if not leaving or len(leaving) * 2 >= len(members):
                continue  # nothing to split, or no majority to stay: the event stands as it is
            for story_id, why in leaving:
                keys, seen = members.pop(story_id)
                for key, weight in keys.items():
                    state.centroid[key] = state.centroid.get(key, 0.0) - weight
                    if state.centroid[key] <= 1e-9:
                        del state.centroid[key]
                state.stories -= 1
                seen_all = [s for _, s in members.values()]
                state.first_seen, state.last_seen = min(seen_all), max(seen_all)
                plan.changed[event_id] = state
                story = by_story.get(story_id) or StoryEvidence(story_id, seen, None, keys)
                link = place(story, exclude=event_id)
                link.why = {**link.why, "split_from": event_id, "split": why}
                links = [lk for lk in links if lk.story_id != story_id] + [link]
                plan.splits.append(Split(story_id, event_id, link.event_id, why))
    plan.links = links
    mapping = backend.apply(plan, stories)
    for link in links:
        link.event_id = mapping.get(link.event_id, link.event_id)
    for split in plan.splits:
        split.to_event = mapping.get(split.to_event, split.to_event)
    return links


class MemoryBackend:
    """Events kept in memory (the evaluation and the tests; same decisions as PostgreSQL)."""

    def __init__(self) -> None:
        self.events: dict[int, EventState] = {}
        self.index: dict[str, dict[int, set[int]]] = {}  # key -> day -> event ids
        self.event_of: dict[int, int] = {}  # story -> event
        self.splits: list[Split] = []
        self._next = 1

    def lookup(self, keys: Sequence[str], low: int, high: int, cap: int) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for key in keys:
            ids: set[int] = set()
            for day, events in self.index.get(key, {}).items():
                if low <= day <= high:
                    ids |= events
            out[key] = set(sorted(ids)[:cap])
        return out

    def load(self, ids: Iterable[int]) -> dict[int, EventState]:
        return {i: EventState(i, e.first_seen, e.last_seen, dict(e.centroid), e.stories, e.title)
                for i in ids if (e := self.events.get(i))}

    def members(self, ids: Iterable[int]) -> dict[int, dict[int, tuple[dict[str, float], datetime]]]:
        return {i: dict(self.events[i].members or {}) for i in ids}

    def apply(self, plan: Plan, stories: Sequence[StoryEvidence]) -> dict[int, int]:
        mapping: dict[int, int] = {}
        for state in plan.new:
            mapping[state.id] = self._next
            self._next += 1
        for state in [*plan.new, *plan.changed.values()]:
            stored_id = mapping.get(state.id, state.id)
            members = self.events[stored_id].members if stored_id in self.events else {}
            self.events[stored_id] = EventState(stored_id, state.first_seen, state.last_seen,
                                                dict(state.centroid), state.stories, state.title, members)
        for link in plan.links:
            event_id = mapping.get(link.event_id, link.event_id)
            old = self.event_of.get(link.story_id)
            if old is not None and old != event_id:
                (self.events[old].members or {}).pop(link.story_id, None)
            self.event_of[link.story_id] = event_id
            members = self.events[event_id].members
            if members is None:
                members = self.events[event_id].members = {}
            members[link.story_id] = (dict(link.evidence.keys), link.evidence.seen_at)
        for key, day, event_id in plan.index:
            self.index.setdefault(key, {}).setdefault(day, set()).add(mapping.get(event_id, event_id))
        self.splits += plan.splits
        return mapping
