"""The directory's flat route table."""

from __future__ import annotations

from linli.auth import MEMBERS, allow
from linli.http import Route
from linli.pagination import Page, PageQuery
from services.directory import handlers as h
from services.directory.identity import Identity, IdentityQuery
from services.directory.members import Members, MembersQuery
from services.directory.models import (
    Building,
    BuildingIn,
    Compound,
    CompoundIn,
    CompoundPatch,
    Household,
    HouseholdIn,
    ImportResult,
    Organisation,
    OrganisationIn,
    OwnerIn,
    Person,
    PersonIn,
    ResidentIn,
    Role,
    RoleEnd,
    RoleIn,
    Roll,
    RosterEntry,
    Unit,
    UnitIn,
    UnitPatch,
    UnitQuery,
)
from services.directory.privacy import OWNER_READERS, OWNER_SCOPES

# Who keeps the register: the community, the street office, the party branch (and apps).
REGISTRARS = allow("community", "street_office", "party_branch", scopes=["directory:write"])
# Apps that sign people in (the portal): who a phone number or person id is, where, in which roles.
IDENTIFIERS = allow(scopes=["directory:identify"])
COMPOUND_CREATORS = allow("street_office", scopes=["directory:write"])
# the roll names every owner: for those who keep it and count votes (meetings freezes it)
ROLL_READERS = allow(*OWNER_READERS, scopes=sorted(OWNER_SCOPES))
# Services checking that the people a request names belong to a compound (notify's messages,
# meetings' invitees, volunteers registered by staff, issues reported for a named resident, the
# centre's bookings, sign-ups, loans and holds made for someone, the workflow API's committee
# preparatory group with directory:read), by their own service tokens;
# a read for apps, and for platform admins, who read the register and the roll anyway; other
# people would learn who lives where
MEMBER_CHECKERS = allow("admin", scopes=["directory:read", "notify:internal", "meetings:internal",
                                         "volunteers:internal", "issues:internal", "centre:internal"],
                        note="the caller acts in the compound")
C = "/v1/compounds/{compound_id}"
TAGS = ("directory",)

ROUTES = [
    Route("POST", "/v1/compounds", h.create_compound, "登记小区", body=CompoundIn,
          response=Compound, status=201, access=COMPOUND_CREATORS, idempotent=True, tags=TAGS),
    Route("GET", "/v1/compounds", h.list_compounds, "可访问的小区列表", query=PageQuery,
          response=Page[Compound], access=MEMBERS, tags=TAGS),
    Route("GET", C, h.get_compound, "小区详情", response=Compound, tags=TAGS),
    Route("PATCH", C, h.update_compound, "修改小区信息", body=CompoundPatch, response=Compound,
          access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/buildings", h.create_building, "登记楼栋", body=BuildingIn,
          response=Building, status=201, access=REGISTRARS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/buildings", h.list_buildings, "楼栋列表 (按名称分页)", query=PageQuery,
          response=Page[Building], tags=TAGS),
    Route("POST", f"{C}/units", h.create_unit, "登记专有部分 (房屋)", body=UnitIn, response=Unit,
          status=201, access=REGISTRARS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/units", h.list_units, "专有部分列表 (业主只对工作人员和计票人员列出)", query=UnitQuery,
          response=Page[Unit], tags=TAGS),
    Route("GET", f"{C}/units/{{unit_id}}", h.get_unit, "专有部分详情", response=Unit, tags=TAGS),
    Route("PATCH", f"{C}/units/{{unit_id}}", h.update_unit, "修改面积或交付状态", body=UnitPatch,
          response=Unit, access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/units/{{unit_id}}/owners", h.add_owner, "登记业主 (共有人可多次登记)",
          body=OwnerIn, response=Unit, access=REGISTRARS, tags=TAGS),
    Route("DELETE", f"{C}/units/{{unit_id}}/owners/{{person_id}}", h.remove_owner, "注销业主登记",
          response=Unit, access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/imports/units", h.import_units,
          "CSV 批量导入专有部分和业主 (text/csv; 表头 building,floors,floor,number,area,status,owners)",
          response=ImportResult, status=201, access=REGISTRARS, tags=TAGS),
    Route("POST", "/v1/people", h.create_person, "登记人员", body=PersonIn, response=Person,
          status=201, access=REGISTRARS, idempotent=True, tags=TAGS),
    Route("GET", "/v1/people/{person_id}", h.get_person,
          "人员 (仅限同一小区; 完整手机号只给本人和其房屋所在小区的工作人员)",
          response=Person, access=MEMBERS, tags=TAGS),
    Route("POST", f"{C}/households", h.create_household, "登记住户", body=HouseholdIn,
          response=Household, status=201, access=REGISTRARS, idempotent=True, tags=TAGS),
    Route("GET", f"{C}/households", h.list_households, "住户列表 (按户名分页, 含成员)",
          query=PageQuery, response=Page[Household],
          access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/households/{{household_id}}/residents", h.add_resident, "添加住户成员",
          body=ResidentIn, response=Household, access=REGISTRARS, tags=TAGS),
    Route("DELETE", f"{C}/households/{{household_id}}/residents/{{person_id}}",
          h.remove_resident, "住户成员迁出 (不再算作本小区的住户)", response=Household,
          access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/organisations", h.create_organisation, "登记 1+3+N 组织",
          body=OrganisationIn, response=Organisation, status=201, access=REGISTRARS,
          idempotent=True, tags=TAGS),
    Route("POST", f"{C}/organisations/{{organisation_id}}/roles", h.assign_role, "任命职务",
          body=RoleIn, response=Role, status=201, access=REGISTRARS, tags=TAGS),
    Route("POST", f"{C}/roles/{{role_id}}/end", h.end_role, "结束职务", body=RoleEnd,
          response=Role, access=REGISTRARS, tags=TAGS),
    Route("GET", f"{C}/roster", h.roster, "1+3+N 名册 (按组织分页, 含各组织的人员)",
          query=h.RosterQuery, response=Page[RosterEntry], tags=TAGS),
    Route("GET", f"{C}/roll", h.roll, "业主表决名册 (面积与人数按司法解释计算)", response=Roll,
          access=ROLL_READERS, tags=TAGS),
    Route("POST", f"{C}/members/lookup", h.compound_members,
          "哪些人属于本小区 (本小区的业主、住户或现任 1+3+N 组织成员): 一次至多 1000 个人员 id,"
          " 答属于的 (members, 及其姓名 names) 和不属于的 (outside); 只读, 供服务间核对请求中点名的人员"
          " (应用, 及平台管理员)",
          body=MembersQuery, response=Members, access=MEMBER_CHECKERS, tags=TAGS),
    Route("GET", "/v1/identities", h.identity_by_phone,
          "按手机号查找人员及其所在小区、角色和房屋 (登录用, 应用范围 directory:identify)",
          query=IdentityQuery, response=Identity, access=IDENTIFIERS, tags=TAGS),
    Route("GET", "/v1/identities/{person_id}", h.identity_of,
          "人员及其所在小区、角色和房屋 (应用范围 directory:identify)", response=Identity,
          access=IDENTIFIERS, tags=TAGS),
]
