import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_STATUS_UNSPECIFIED: _ClassVar[CallStatus]
    CALL_STATUS_QUEUED: _ClassVar[CallStatus]
    CALL_STATUS_PROCESSING: _ClassVar[CallStatus]
    CALL_STATUS_DONE: _ClassVar[CallStatus]
    CALL_STATUS_FAILED: _ClassVar[CallStatus]
CALL_STATUS_UNSPECIFIED: CallStatus
CALL_STATUS_QUEUED: CallStatus
CALL_STATUS_PROCESSING: CallStatus
CALL_STATUS_DONE: CallStatus
CALL_STATUS_FAILED: CallStatus

class Call(_message.Message):
    __slots__ = ("org_id", "call_id", "status", "error", "language", "operator_id", "customer_id", "department", "call_date", "duration_s", "channels", "sample_rate", "audio_format", "original_filename", "size_bytes", "has_transcript", "attempts", "created_at", "updated_at", "uid", "language_source", "detected_language", "language_confidence", "warnings", "audio_key", "generation", "progress", "speakers", "audio_deleted_at")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    CALL_DATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FILENAME_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    HAS_TRANSCRIPT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_KEY_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    status: CallStatus
    error: str
    language: str
    operator_id: str
    customer_id: str
    department: str
    call_date: str
    duration_s: float
    channels: int
    sample_rate: int
    audio_format: str
    original_filename: str
    size_bytes: int
    has_transcript: bool
    attempts: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    uid: str
    language_source: str
    detected_language: str
    language_confidence: float
    warnings: _containers.RepeatedCompositeFieldContainer[CallWarning]
    audio_key: str
    generation: int
    progress: CallProgress
    speakers: _struct_pb2.Struct
    audio_deleted_at: _timestamp_pb2.Timestamp
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ..., status: _Optional[_Union[CallStatus, str]] = ..., error: _Optional[str] = ..., language: _Optional[str] = ..., operator_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., department: _Optional[str] = ..., call_date: _Optional[str] = ..., duration_s: _Optional[float] = ..., channels: _Optional[int] = ..., sample_rate: _Optional[int] = ..., audio_format: _Optional[str] = ..., original_filename: _Optional[str] = ..., size_bytes: _Optional[int] = ..., has_transcript: _Optional[bool] = ..., attempts: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uid: _Optional[str] = ..., language_source: _Optional[str] = ..., detected_language: _Optional[str] = ..., language_confidence: _Optional[float] = ..., warnings: _Optional[_Iterable[_Union[CallWarning, _Mapping]]] = ..., audio_key: _Optional[str] = ..., generation: _Optional[int] = ..., progress: _Optional[_Union[CallProgress, _Mapping]] = ..., speakers: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., audio_deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CallProgress(_message.Message):
    __slots__ = ("fraction", "step", "eta", "updated_at", "started_at")
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    ETA_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    fraction: float
    step: str
    eta: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, fraction: _Optional[float] = ..., step: _Optional[str] = ..., eta: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CallWarning(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("text", "start", "end", "confidence", "speaker")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    text: str
    start: float
    end: float
    confidence: float
    speaker: str
    def __init__(self, text: _Optional[str] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., confidence: _Optional[float] = ..., speaker: _Optional[str] = ...) -> None: ...

class Turn(_message.Message):
    __slots__ = ("speaker", "start", "end", "text", "words", "kind", "voice")
    SPEAKER_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VOICE_FIELD_NUMBER: _ClassVar[int]
    speaker: str
    start: float
    end: float
    text: str
    words: _containers.RepeatedCompositeFieldContainer[Word]
    kind: str
    voice: str
    def __init__(self, speaker: _Optional[str] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., text: _Optional[str] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., kind: _Optional[str] = ..., voice: _Optional[str] = ...) -> None: ...

class Transcript(_message.Message):
    __slots__ = ("org_id", "call_id", "language", "engine", "model", "speaker_mode", "duration_s", "text", "turns", "meta")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SPEAKER_MODE_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TURNS_FIELD_NUMBER: _ClassVar[int]
    META_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    language: str
    engine: str
    model: str
    speaker_mode: str
    duration_s: float
    text: str
    turns: _containers.RepeatedCompositeFieldContainer[Turn]
    meta: _struct_pb2.Struct
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ..., language: _Optional[str] = ..., engine: _Optional[str] = ..., model: _Optional[str] = ..., speaker_mode: _Optional[str] = ..., duration_s: _Optional[float] = ..., text: _Optional[str] = ..., turns: _Optional[_Iterable[_Union[Turn, _Mapping]]] = ..., meta: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class GetCallRequest(_message.Message):
    __slots__ = ("org_id", "call_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...

class ListCallsRequest(_message.Message):
    __slots__ = ("org_id", "statuses", "department", "operator_id", "customer_id", "call_date_from", "call_date_to", "page_size", "page_token", "query")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    CALL_DATE_TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    statuses: _containers.RepeatedScalarFieldContainer[CallStatus]
    department: str
    operator_id: str
    customer_id: str
    call_date_from: str
    call_date_to: str
    page_size: int
    page_token: str
    query: str
    def __init__(self, org_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[CallStatus, str]]] = ..., department: _Optional[str] = ..., operator_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., call_date_from: _Optional[str] = ..., call_date_to: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListCallsResponse(_message.Message):
    __slots__ = ("calls", "next_page_token", "total_count")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[Call]
    next_page_token: str
    total_count: int
    def __init__(self, calls: _Optional[_Iterable[_Union[Call, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ...) -> None: ...

class WatchCallsRequest(_message.Message):
    __slots__ = ("org_id", "send_initial")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_INITIAL_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    send_initial: bool
    def __init__(self, org_id: _Optional[str] = ..., send_initial: _Optional[bool] = ...) -> None: ...

class CallEvent(_message.Message):
    __slots__ = ("call", "previous_status", "deleted")
    CALL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    call: Call
    previous_status: CallStatus
    deleted: bool
    def __init__(self, call: _Optional[_Union[Call, _Mapping]] = ..., previous_status: _Optional[_Union[CallStatus, str]] = ..., deleted: _Optional[bool] = ...) -> None: ...

class GetTranscriptRequest(_message.Message):
    __slots__ = ("org_id", "call_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...
