from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAnalysisRequest(_message.Message):
    __slots__ = ("org_id", "call_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    call_id: str
    def __init__(self, org_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...

class Analysis(_message.Message):
    __slots__ = ("call_id", "analysis_version", "form_fingerprint", "result_json", "error", "updated_at")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORM_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    analysis_version: str
    form_fingerprint: str
    result_json: str
    error: str
    updated_at: str
    def __init__(self, call_id: _Optional[str] = ..., analysis_version: _Optional[str] = ..., form_fingerprint: _Optional[str] = ..., result_json: _Optional[str] = ..., error: _Optional[str] = ..., updated_at: _Optional[str] = ...) -> None: ...

class ItemPassRate(_message.Message):
    __slots__ = ("item_id", "evaluated", "passed", "pass_rate")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    PASS_RATE_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    evaluated: int
    passed: int
    pass_rate: float
    def __init__(self, item_id: _Optional[str] = ..., evaluated: _Optional[int] = ..., passed: _Optional[int] = ..., pass_rate: _Optional[float] = ...) -> None: ...

class Figures(_message.Message):
    __slots__ = ("calls", "analysed_calls", "mean_qa_score", "mean_operator_talk_share", "mean_silence_s", "mean_longest_silence_s", "mean_interruptions", "mean_customer_sentiment_change", "items")
    CALLS_FIELD_NUMBER: _ClassVar[int]
    ANALYSED_CALLS_FIELD_NUMBER: _ClassVar[int]
    MEAN_QA_SCORE_FIELD_NUMBER: _ClassVar[int]
    MEAN_OPERATOR_TALK_SHARE_FIELD_NUMBER: _ClassVar[int]
    MEAN_SILENCE_S_FIELD_NUMBER: _ClassVar[int]
    MEAN_LONGEST_SILENCE_S_FIELD_NUMBER: _ClassVar[int]
    MEAN_INTERRUPTIONS_FIELD_NUMBER: _ClassVar[int]
    MEAN_CUSTOMER_SENTIMENT_CHANGE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    calls: int
    analysed_calls: int
    mean_qa_score: float
    mean_operator_talk_share: float
    mean_silence_s: float
    mean_longest_silence_s: float
    mean_interruptions: float
    mean_customer_sentiment_change: float
    items: _containers.RepeatedCompositeFieldContainer[ItemPassRate]
    def __init__(self, calls: _Optional[int] = ..., analysed_calls: _Optional[int] = ..., mean_qa_score: _Optional[float] = ..., mean_operator_talk_share: _Optional[float] = ..., mean_silence_s: _Optional[float] = ..., mean_longest_silence_s: _Optional[float] = ..., mean_interruptions: _Optional[float] = ..., mean_customer_sentiment_change: _Optional[float] = ..., items: _Optional[_Iterable[_Union[ItemPassRate, _Mapping]]] = ...) -> None: ...

class ScorecardFilter(_message.Message):
    __slots__ = ("org_id", "date_from", "date_to", "department")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    date_from: str
    date_to: str
    department: str
    def __init__(self, org_id: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ..., department: _Optional[str] = ...) -> None: ...

class ListOperatorScorecardsRequest(_message.Message):
    __slots__ = ("filter", "sort", "descending")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    DESCENDING_FIELD_NUMBER: _ClassVar[int]
    filter: ScorecardFilter
    sort: str
    descending: bool
    def __init__(self, filter: _Optional[_Union[ScorecardFilter, _Mapping]] = ..., sort: _Optional[str] = ..., descending: _Optional[bool] = ...) -> None: ...

class OperatorScorecard(_message.Message):
    __slots__ = ("operator_id", "figures")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    figures: Figures
    def __init__(self, operator_id: _Optional[str] = ..., figures: _Optional[_Union[Figures, _Mapping]] = ...) -> None: ...

class ListOperatorScorecardsResponse(_message.Message):
    __slots__ = ("operators",)
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    operators: _containers.RepeatedCompositeFieldContainer[OperatorScorecard]
    def __init__(self, operators: _Optional[_Iterable[_Union[OperatorScorecard, _Mapping]]] = ...) -> None: ...

class GetOperatorScorecardRequest(_message.Message):
    __slots__ = ("filter", "operator_id")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    filter: ScorecardFilter
    operator_id: str
    def __init__(self, filter: _Optional[_Union[ScorecardFilter, _Mapping]] = ..., operator_id: _Optional[str] = ...) -> None: ...

class WeekFigures(_message.Message):
    __slots__ = ("iso_week", "figures")
    ISO_WEEK_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    iso_week: str
    figures: Figures
    def __init__(self, iso_week: _Optional[str] = ..., figures: _Optional[_Union[Figures, _Mapping]] = ...) -> None: ...

class CallFigures(_message.Message):
    __slots__ = ("call_id", "status", "call_date", "operator_id", "customer_id", "department", "duration_s", "qa_score", "operator_talk_share", "silence_s", "interruptions", "customer_sentiment_change")
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CALL_DATE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    QA_SCORE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_TALK_SHARE_FIELD_NUMBER: _ClassVar[int]
    SILENCE_S_FIELD_NUMBER: _ClassVar[int]
    INTERRUPTIONS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_SENTIMENT_CHANGE_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    status: str
    call_date: str
    operator_id: str
    customer_id: str
    department: str
    duration_s: float
    qa_score: float
    operator_talk_share: float
    silence_s: float
    interruptions: int
    customer_sentiment_change: float
    def __init__(self, call_id: _Optional[str] = ..., status: _Optional[str] = ..., call_date: _Optional[str] = ..., operator_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., department: _Optional[str] = ..., duration_s: _Optional[float] = ..., qa_score: _Optional[float] = ..., operator_talk_share: _Optional[float] = ..., silence_s: _Optional[float] = ..., interruptions: _Optional[int] = ..., customer_sentiment_change: _Optional[float] = ...) -> None: ...

class GetOperatorScorecardResponse(_message.Message):
    __slots__ = ("operator_id", "figures", "trend", "calls")
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    TREND_FIELD_NUMBER: _ClassVar[int]
    CALLS_FIELD_NUMBER: _ClassVar[int]
    operator_id: str
    figures: Figures
    trend: _containers.RepeatedCompositeFieldContainer[WeekFigures]
    calls: _containers.RepeatedCompositeFieldContainer[CallFigures]
    def __init__(self, operator_id: _Optional[str] = ..., figures: _Optional[_Union[Figures, _Mapping]] = ..., trend: _Optional[_Iterable[_Union[WeekFigures, _Mapping]]] = ..., calls: _Optional[_Iterable[_Union[CallFigures, _Mapping]]] = ...) -> None: ...

class ListDepartmentAnalyticsRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: ScorecardFilter
    def __init__(self, filter: _Optional[_Union[ScorecardFilter, _Mapping]] = ...) -> None: ...

class DepartmentAnalytics(_message.Message):
    __slots__ = ("department", "operators", "figures")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    department: str
    operators: int
    figures: Figures
    def __init__(self, department: _Optional[str] = ..., operators: _Optional[int] = ..., figures: _Optional[_Union[Figures, _Mapping]] = ...) -> None: ...

class ListDepartmentAnalyticsResponse(_message.Message):
    __slots__ = ("departments",)
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[DepartmentAnalytics]
    def __init__(self, departments: _Optional[_Iterable[_Union[DepartmentAnalytics, _Mapping]]] = ...) -> None: ...

class ListCustomerCallsRequest(_message.Message):
    __slots__ = ("filter", "customer_id")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    filter: ScorecardFilter
    customer_id: str
    def __init__(self, filter: _Optional[_Union[ScorecardFilter, _Mapping]] = ..., customer_id: _Optional[str] = ...) -> None: ...

class ListCustomerCallsResponse(_message.Message):
    __slots__ = ("calls",)
    CALLS_FIELD_NUMBER: _ClassVar[int]
    calls: _containers.RepeatedCompositeFieldContainer[CallFigures]
    def __init__(self, calls: _Optional[_Iterable[_Union[CallFigures, _Mapping]]] = ...) -> None: ...

class RerunFilters(_message.Message):
    __slots__ = ("department", "operator_id", "date_from", "date_to")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    DATE_TO_FIELD_NUMBER: _ClassVar[int]
    department: str
    operator_id: str
    date_from: str
    date_to: str
    def __init__(self, department: _Optional[str] = ..., operator_id: _Optional[str] = ..., date_from: _Optional[str] = ..., date_to: _Optional[str] = ...) -> None: ...

class Rerun(_message.Message):
    __slots__ = ("rerun_id", "status", "filters", "total", "enqueued", "analysed", "failed", "skipped", "requested_at", "finished_at", "error")
    RERUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_FIELD_NUMBER: _ClassVar[int]
    ANALYSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    rerun_id: str
    status: str
    filters: RerunFilters
    total: int
    enqueued: int
    analysed: int
    failed: int
    skipped: int
    requested_at: str
    finished_at: str
    error: str
    def __init__(self, rerun_id: _Optional[str] = ..., status: _Optional[str] = ..., filters: _Optional[_Union[RerunFilters, _Mapping]] = ..., total: _Optional[int] = ..., enqueued: _Optional[int] = ..., analysed: _Optional[int] = ..., failed: _Optional[int] = ..., skipped: _Optional[int] = ..., requested_at: _Optional[str] = ..., finished_at: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class GetRerunRequest(_message.Message):
    __slots__ = ("org_id", "rerun_id")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    RERUN_ID_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    rerun_id: str
    def __init__(self, org_id: _Optional[str] = ..., rerun_id: _Optional[str] = ...) -> None: ...

class ListRerunsRequest(_message.Message):
    __slots__ = ("org_id", "limit")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    limit: int
    def __init__(self, org_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRerunsResponse(_message.Message):
    __slots__ = ("reruns",)
    RERUNS_FIELD_NUMBER: _ClassVar[int]
    reruns: _containers.RepeatedCompositeFieldContainer[Rerun]
    def __init__(self, reruns: _Optional[_Iterable[_Union[Rerun, _Mapping]]] = ...) -> None: ...
