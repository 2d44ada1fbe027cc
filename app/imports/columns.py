"""What an import file holds, per kind of record: its columns and how a row becomes
a record.

The Chinese column headers are the file format (fixed, whatever the interface
language), so that a filled-in file keeps working when translations change. Cells with
a vocabulary accept the code or its label in any interface language.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from app.commissioners import services as commissioner_services
from app.commissioners.forms import CommissionerForm
from app.core import choices
from app.core.i18n import lazy_gettext as _l
from app.targets import services as target_services
from app.targets.forms import TargetForm

# Cell kinds: text, vocab, bool, date, int, clusters, villages, village, station.


@dataclass(frozen=True)
class Column:
    field: str
    header: str
    kind: str = "text"
    required: bool = False
    vocab: dict | None = None
    default: str | None = None  # the code a blank vocabulary cell stands for
    help: object = ""
    example: object = ""
    as_text: bool = False  # format the column as text in the template (long digit strings)


@dataclass(frozen=True)
class Spec:
    kind: str
    title: object
    sheet: str
    columns: tuple[Column, ...]
    form_class: type
    rules: Callable[[dict], dict]
    list_endpoint: str
    preview: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.field == name)


COMMISSIONERS = Spec(
    kind="commissioners",
    title=_l("Commissioners"),
    sheet="科技特派员",
    form_class=CommissionerForm,
    rules=commissioner_services.errors,
    list_endpoint="commissioners.index",
    preview=("name", "kind", "sending_org", "status"),
    columns=(
        Column("name", "姓名", required=True, example="王建国",
               help=_l("The commissioner's name; for a team or a legal entity, its name.")),
        Column("kind", "类型", "vocab", vocab=choices.COMMISSIONER_KINDS, default="individual",
               example="individual", help=_l("Blank means the first value.")),
        Column("sex", "性别", "vocab", vocab=choices.SEXES, example="male"),
        Column("ethnicity", "民族", example="蒙古族"),
        Column("level", "认定级别", "vocab", vocab=choices.LEVELS, default="county",
               example="county", help=_l("Blank means the last value.")),
        Column("title", "职称", example="高级畜牧师"),
        Column("sending_org", "选派单位", example="内蒙古农业大学"),
        Column("sending_org_type", "选派单位类型", "vocab", vocab=choices.SENDING_ORG_TYPES,
               example="university"),
        Column("local_talent_kind", "乡土人才类别", "vocab", vocab=choices.LOCAL_TALENT_KINDS,
               help=_l("Only when the type of sending organisation is local talent.")),
        Column("specialty", "专业特长", example="肉羊养殖"),
        Column("cluster_ids", "产业集群", "clusters", example="肉羊",
               help=_l("Names of industry clusters; several are separated by 、 or a comma.")),
        Column("three_areas_talent", "“三区”科技人才", "bool", example="否"),
        Column("hotline_expert", "12396坐席专家", "bool", example="否"),
        Column("phone", "手机号码", as_text=True, example="13812345678",
               help=_l("An 11-digit mobile number or a landline with its area code.")),
        Column("id_number", "身份证号", as_text=True,
               help=_l("18 characters; format the column as text so Excel keeps every digit.")),
        Column("station_id", "所属工作站", "station",
               help=_l("The name of a station recorded on this node.")),
        Column("village_ids", "服务嘎查村", "villages",
               help=_l("Names of villages recorded on this node; write the township before "
                       "the village when two villages share a name. Several are separated "
                       "by 、 or a comma.")),
        Column("status", "状态", "vocab", vocab=choices.COMMISSIONER_STATUSES,
               default="recognised", example="dispatched", help=_l("Blank means the first value.")),
        Column("recognised_on", "认定日期", "date", example=date(2023, 3, 1),
               help=_l("A date, or text written as YYYY-MM-DD.")),
        Column("dispatched_on", "选派日期", "date", example=date(2023, 4, 10),
               help=_l("Required when the status is dispatched.")),
        Column("exited_on", "退出日期", "date", help=_l("Required when the status is exited.")),
        Column("exit_reason", "退出原因", help=_l("Required when the status is exited.")),
        Column("members_note", "团队成员或负责人",
               help=_l("For a team or a legal-entity commissioner.")),
        Column("notes", "备注"),
    ),
)

TARGETS = Spec(
    kind="targets",
    title=_l("Service targets"),
    sheet="服务对象",
    form_class=TargetForm,
    rules=target_services.errors,
    list_endpoint="targets.index",
    preview=("name", "kind", "village_id", "contact_name"),
    columns=(
        Column("name", "名称", required=True, example="张三",
               help=_l("The household head's name, or the organisation's name.")),
        Column("kind", "类型", "vocab", required=True, vocab=choices.TARGET_KINDS,
               example="household"),
        Column("village_id", "嘎查村", "village",
               help=_l("The name of a village recorded on this node; write the township "
                       "before the village when two villages share a name.")),
        Column("contact_name", "联系人", example="张三"),
        Column("phone", "联系电话", as_text=True, example="13812345678",
               help=_l("An 11-digit mobile number or a landline with its area code.")),
        Column("id_number", "身份证号", as_text=True,
               help=_l("Only for a household. 18 characters; format the column as text so "
                       "Excel keeps every digit.")),
        Column("credit_code", "统一社会信用代码", as_text=True,
               help=_l("Only for a co-operative, enterprise, family farm or village "
                       "collective: 18 digits or capital letters.")),
        Column("poverty_alleviated", "脱贫户", "bool", example="是",
               help=_l("Only for a household.")),
        Column("monitored", "监测户", "bool", example="否", help=_l("Only for a household.")),
        Column("household_size", "家庭人口", "int", example=4,
               help=_l("Only for a household: 1 to 50.")),
        Column("notes", "备注"),
    ),
)

SPECS = {spec.kind: spec for spec in (COMMISSIONERS, TARGETS)}
