from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TranscriptionJob(_message.Message):
    __slots__ = ("call_uid", "org_id", "generation", "audio_key", "enqueued_at", "trace_context", "kind")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALL_UID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    AUDIO_KEY_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    call_uid: str
    org_id: str
    generation: int
    audio_key: str
    enqueued_at: str
    trace_context: _containers.ScalarMap[str, str]
    kind: str
    def __init__(self, call_uid: _Optional[str] = ..., org_id: _Optional[str] = ..., generation: _Optional[int] = ..., audio_key: _Optional[str] = ..., enqueued_at: _Optional[str] = ..., trace_context: _Optional[_Mapping[str, str]] = ..., kind: _Optional[str] = ...) -> None: ...

class AnalysisJob(_message.Message):
    __slots__ = ("call_uid", "org_id", "rerun_id", "enqueued_at", "trace_context", "operator_voice", "requested_by")
    class TraceContextEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CALL_UID_FIELD_NUMBER: _ClassVar[int]
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RERUN_ID_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    TRACE_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_VOICE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    call_uid: str
    org_id: str
    rerun_id: str
    enqueued_at: str
    trace_context: _containers.ScalarMap[str, str]
    operator_voice: str
    requested_by: str
    def __init__(self, call_uid: _Optional[str] = ..., org_id: _Optional[str] = ..., rerun_id: _Optional[str] = ..., enqueued_at: _Optional[str] = ..., trace_context: _Optional[_Mapping[str, str]] = ..., operator_voice: _Optional[str] = ..., requested_by: _Optional[str] = ...) -> None: ...
