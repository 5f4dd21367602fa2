"""The notify route table: the person's inbox and preferences, a compound's notice board,
templates and delivery log."""

from __future__ import annotations

from linli.auth import MEMBERS, PUBLIC, allow, people
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.notify import handlers as h
from services.notify.channel_models import (
    Bot,
    BotIn,
    BroadcastIn,
    ChannelIn,
    EmailSender,
    EmailSenderIn,
    MessageSent,
    MessageToIn,
    PersonChannel,
    Unsubscribed,
)
from services.notify.direct import MessageIn, Sent
from services.notify.models import (
    Delivery,
    DeliveryQuery,
    InboxQuery,
    Notice,
    Notification,
    NotificationMatrix,
    Preferences,
    PreferencesIn,
    ReadAll,
    RotatedSecret,
    RotateIn,
    Template,
    TemplateIn,
)
from services.notify.posts import NoticeIn

C = "/v1/compounds/{compound_id}"
ME = ("我的通知",)
TAGS = ("通知",)
STAFF = allow("party_branch", "community", "owners_committee", "property", "street_office",
              scopes=["notify:manage"])
# Apps that message one person directly (the portal's sign-in codes).
SENDERS = allow(scopes=["notify:send"], note="apps only; a phone, a sign-in code or no compound_id: the app"
                " acts in every compound; with compound_id, the app acts there and the person"
                " belongs to it")
# Messages to people or organisations of a compound: its staff, and apps allowed to send.
MESSENGERS = allow("party_branch", "community", "owners_committee", "property", "street_office",
                   scopes=["notify:send"],
                   note="the caller acts in the compound; every person named belongs to it")
# A message to a whole compound (every resident's notice board): the party branch, the
# community and the street office, and apps holding the broadcast scope; not the property
# company or the owners' committee, whose own notices go through staff posts (`notices`).
BROADCASTERS = allow("party_branch", "community", "street_office", scopes=["notify:broadcast"],
                     note="the caller acts in the compound")
EDITORS = allow("party_branch", "community", "street_office")
# The inbox, preferences, channels and one's own deliveries belong to a person; apps have none.
PERSONAL = people("oneself: the inbox, preferences, channels and deliveries are the caller's own")

ROUTES = [
    Route("GET", "/v1/me/inbox", h.inbox, "我的站内通知 (可只看未读)", query=InboxQuery,
          response=Page[Notification], access=PERSONAL, tags=ME),
    Route("GET", "/v1/me/inbox/stream", h.inbox_stream,
          "实时通知 (Server-Sent Events: notification / notice / unread 事件, 断线重连带 Last-Event-ID"
          " 补发错过的)", access=PERSONAL, tags=ME, refusals=(406,)),
    Route("POST", "/v1/me/inbox/{notification_id}/read", h.read, "标记一条通知为已读",
          response=Notification, access=PERSONAL, tags=ME),
    Route("POST", "/v1/me/inbox/read-all", h.read_all, "全部标记为已读", response=ReadAll,
          access=PERSONAL, tags=ME),
    Route("GET", "/v1/me/preferences", h.get_preferences, "我的通知渠道偏好",
          response=Preferences, access=PERSONAL, tags=ME),
    Route("PUT", "/v1/me/preferences", h.put_preferences,
          "设置通知渠道 (站内始终开启; webhook 推送到 IM 机器人或物业系统, 可选类型与免打扰时段)",
          body=PreferencesIn, response=Preferences, access=PERSONAL, tags=ME),
    Route("POST", "/v1/me/preferences/webhook-secret/rotate", h.rotate_secret,
          "轮换 webhook 签名密钥: 返回新密钥 (仅此一次); 宽限期内新旧密钥同时签名"
          " (webhook-signature 含两个 v1 签名), 接收方可从容切换", body=RotateIn,
          response=RotatedSecret, access=PERSONAL, tags=ME),
    Route("GET", "/v1/me/notification-matrix", h.notification_matrix,
          "我的通知矩阵: 每类通知经哪些渠道、何时送达 (按我的偏好、免打扰时段和每日摘要)",
          response=NotificationMatrix, access=PERSONAL, tags=ME),
    Route("GET", "/v1/me/deliveries", h.my_deliveries, "我的推送记录", query=DeliveryQuery,
          response=Page[Delivery], access=PERSONAL, tags=ME),
    Route("GET", "/v1/me/channels", h.my_channels, "我的邮件和短信通知渠道 (一页全部)",
          response=Page[PersonChannel], access=PERSONAL, tags=ME),
    Route("PUT", "/v1/me/channels/{channel}", h.put_channel,
          "设置邮件 (email) 或短信 (sms) 渠道的地址和通知类型", body=ChannelIn,
          response=PersonChannel, access=PERSONAL, tags=ME, params={"channel": "email 或 sms"}),
    Route("DELETE", "/v1/me/channels/{channel}", h.delete_channel, "关闭邮件或短信渠道",
          response=Unsubscribed, access=PERSONAL, tags=ME, params={"channel": "email 或 sms"}),
    Route("POST", "/v1/unsubscribe/{token}", h.unsubscribe,
          "退订邮件通知 (邮件中的链接, 一键退订, 无需登录)", response=Unsubscribed, access=PUBLIC,
          tags=TAGS),
    Route("GET", f"{C}/bots", h.bots, "小区的群机器人 (企业微信、钉钉、飞书; 一页全部)",
          response=Page[Bot],
          access=STAFF, tags=TAGS),
    Route("POST", f"{C}/bots", h.add_bot,
          "添加群机器人: 某组织 (或公告栏 compound) 的通知推送到该群; 密钥不再返回",
          body=BotIn, response=Bot, status=201, access=STAFF, idempotent=True, tags=TAGS),
    Route("DELETE", f"{C}/bots/{{bot_id}}", h.remove_bot, "删除群机器人", status=204,
          access=STAFF, tags=TAGS),
    Route("GET", f"{C}/email-sender", h.email_sender, "本小区邮件通知的发件人", response=EmailSender,
          access=STAFF, tags=TAGS),
    Route("PUT", f"{C}/email-sender", h.put_email_sender,
          "设置本小区邮件通知的发件人 (未设置时用全局发件人)", body=EmailSenderIn,
          response=EmailSender, access=EDITORS, tags=TAGS),
    Route("GET", f"{C}/notices", h.notices, "小区公告栏", query=PageQuery, response=Page[Notice],
          access=MEMBERS, tags=TAGS),
    Route("POST", f"{C}/notices", h.post_notice,
          "发布社区公告 (工作人员; 按本小区“社区公告”模板成文, 推送给关注公告栏的 webhook;"
          " 带 Idempotency-Key 重试不会重复发布)",
          body=NoticeIn, response=Notice, status=201, access=STAFF, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/deliveries", h.compound_deliveries, "小区推送记录 (工作人员)",
          query=DeliveryQuery, response=Page[Delivery], access=STAFF, tags=TAGS),
    Route("GET", f"{C}/notification-templates", h.templates, "通知模板 (本小区使用的文字; 一页全部)",
          response=Page[Template], access=STAFF, tags=TAGS),
    Route("PUT", f"{C}/notification-templates/{{kind}}", h.put_template,
          "修改某类通知的模板 (只能使用该类提供的占位符)", body=TemplateIn, response=Template,
          access=EDITORS, tags=TAGS),
    Route("DELETE", f"{C}/notification-templates/{{kind}}", h.reset_template,
          "恢复某类通知的默认模板", response=Template, access=EDITORS, tags=TAGS),
    Route("POST", "/v1/people/{person_id}/messages", h.send_message,
          "直接给某人发送消息 (如登录验证码): 写入站内通知并发短信; 未配置短信通道时写入服务日志"
          " (应用范围 notify:send; 登录验证码、指定短信号码 phone 或不指明 compound_id 时"
          " 须是可在所有小区操作的平台应用, 否则 403; 指明时此人须属于该小区, 否则 422)",
          body=MessageIn, response=Sent, status=201, access=SENDERS, tags=TAGS),
    Route("POST", f"{C}/messages", h.send_to, "给本小区的人员或 1+3+N 组织发送消息 (person_ids"
          " 须都属于本小区: 业主、住户或现任组织成员, 有一人不属于即整条拒绝 422, 什么都不写入):"
          " 按类型模板成文,"
          " 经站内、webhook、邮件、短信和组织的群机器人送达 (各人的偏好、免打扰和摘要照常);"
          " 带 Idempotency-Key 重试不会重复发送", body=MessageToIn, response=MessageSent,
          status=201, access=MESSENGERS, idempotent=True, tags=TAGS),
    Route("POST", f"{C}/broadcasts", h.broadcast, "给整个小区发送消息: 公告栏、关注公告栏的 webhook"
          " 和小区群机器人; 带 Idempotency-Key 重试不会重复发送", body=BroadcastIn,
          response=MessageSent, status=201, access=BROADCASTERS, idempotent=True, tags=TAGS),
]
