from callsight.v1 import analytics_pb2 as _analytics_pb2
from callsight.v1 import calls_pb2 as _calls_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

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
    statuses: _containers.RepeatedScalarFieldContainer[_calls_pb2.CallStatus]
    department: str
    operator_id: str
    customer_id: str
    call_date_from: str
    call_date_to: str
    page_size: int
    page_token: str
    query: str
    def __init__(self, org_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[_calls_pb2.CallStatus, str]]] = ..., department: _Optional[str] = ..., operator_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., call_date_from: _Optional[str] = ..., call_date_to: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListCallsResponse(_message.Message):
    __slots__ = ("calls", "next_page_token", "total_count")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[_calls_pb2.Call]
    next_page_token: str
    total_count: int
    def __init__(self, calls: _Optional[_Iterable[_Union[_calls_pb2.Call, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_count: _Optional[int] = ...) -> None: ...

class WatchCallsRequest(_message.Message):
    __slots__ = ("org_id", "send_initial")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_INITIAL_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    send_initial: bool
    def __init__(self, org_id: _Optional[str] = ..., send_initial: _Optional[bool] = ...) -> None: ...

class CallEvent(_message.Message):
    __slots__ = ("call", "previous_status")
    CALL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    call: _calls_pb2.Call
    previous_status: _calls_pb2.CallStatus
    def __init__(self, call: _Optional[_Union[_calls_pb2.Call, _Mapping]] = ..., previous_status: _Optional[_Union[_calls_pb2.CallStatus, str]] = ...) -> None: ...

class GetTranscriptRequest(_message.Message):
    __slots__ = ("org_id", "call_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...
