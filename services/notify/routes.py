"""The notify route table: the person's inbox and preferences, a compound's notice board,
templates and delivery log."""

from __future__ import annotations

from linli.auth import MEMBERS, allow
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.notify import handlers as h
from services.notify.direct import MessageIn, Sent
from services.notify.models import (
    Delivery,
    DeliveryQuery,
    InboxQuery,
    Notice,
    Notification,
    Preferences,
    PreferencesIn,
    ReadAll,
    Template,
    TemplateIn,
)

C = "/v1/compounds/{compound_id}"
ME = ("我的通知",)
TAGS = ("通知",)
STAFF = allow("party_branch", "community", "owners_committee", "property", "street_office",
              scopes=["notify:manage"])
# Apps that message one person directly (the portal's sign-in codes).
SENDERS = allow(scopes=["notify:send"])
EDITORS = allow("party_branch", "community", "street_office")

ROUTES = [
    Route("GET", "/v1/me/inbox", h.inbox, "我的站内通知 (可只看未读)", query=InboxQuery,
          response=Page[Notification], access=MEMBERS, tags=ME),
    Route("POST", "/v1/me/inbox/{notification_id}/read", h.read, "标记一条通知为已读",
          response=Notification, access=MEMBERS, tags=ME),
    Route("POST", "/v1/me/inbox/read-all", h.read_all, "全部标记为已读", response=ReadAll,
          access=MEMBERS, tags=ME),
    Route("GET", "/v1/me/preferences", h.get_preferences, "我的通知渠道偏好",
          response=Preferences, access=MEMBERS, tags=ME),
    Route("PUT", "/v1/me/preferences", h.put_preferences,
          "设置通知渠道 (站内始终开启; webhook 推送到 IM 机器人或物业系统, 可选类型与免打扰时段)",
          body=PreferencesIn, response=Preferences, access=MEMBERS, tags=ME),
    Route("GET", "/v1/me/deliveries", h.my_deliveries, "我的推送记录", query=DeliveryQuery,
          response=Page[Delivery], access=MEMBERS, tags=ME),
    Route("GET", f"{C}/notices", h.notices, "小区公告栏", query=PageQuery, response=Page[Notice],
          access=MEMBERS, tags=TAGS),
    Route("GET", f"{C}/deliveries", h.compound_deliveries, "小区推送记录 (工作人员)",
          query=DeliveryQuery, response=Page[Delivery], access=STAFF, tags=TAGS),
    Route("GET", f"{C}/notification-templates", h.templates, "通知模板 (本小区使用的文字)",
          response=list[Template], access=STAFF, tags=TAGS),
    Route("PUT", f"{C}/notification-templates/{{kind}}", h.put_template,
          "修改某类通知的模板 (只能使用该类提供的占位符)", body=TemplateIn, response=Template,
          access=EDITORS, tags=TAGS),
    Route("DELETE", f"{C}/notification-templates/{{kind}}", h.reset_template,
          "恢复某类通知的默认模板", response=Template, access=EDITORS, tags=TAGS),
    Route("POST", "/v1/people/{person_id}/messages", h.send_message,
          "直接给某人发送消息 (如登录验证码): 写入站内通知并发短信; 未配置短信通道时写入服务日志"
          " (应用范围 notify:send)", body=MessageIn, response=Sent, status=201, access=SENDERS,
          tags=TAGS),
]
