"""REST API of campaigns (CMP-1…5): create, list, one, actions, cost preview and cost details (API key or token)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Request, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from core.actor import Actor
from core.campaigns import from_file, report, services
from core.campaigns.report import Timeline
from core.campaigns.schemas import CampaignCreate, CampaignFilter, CampaignView, CostLine, CostPreview, FileUpload
from core.contacts.importing import UPLOAD_BODY_LIMIT, read_upload
from core.web.forms import convert
from core.web.pagination import DEFAULT_PER_PAGE, Page, PageNo, PerPage
from core.web.params import PathId
from core.web.shell import client_ip

ApiAction = Literal["pause", "resume", "cancel", "start"]


@dataclass
class CampaignFile:
    file: UploadFile


class CampaignsApi(Controller):
    path = "/api/campaigns"
    tags = ["Campaigns"]

    @get("/", summary="Your company's campaigns, newest first")
    async def list_campaigns(
        self,
        actor: NamedDependency[Actor],
        q: Annotated[str, QueryParameter(description="Part of the name")] = "",
        status: FromQuery[str] = "",
        channel: FromQuery[str] = "",
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        page: PageNo = 1,
        per_page: PerPage = DEFAULT_PER_PAGE,
    ) -> Page[CampaignView]:
        f = convert(
            {
                "query": q,
                "status": status,
                "channel": channel,
                "created_from": created_from,
                "created_to": created_to,
                "page": page,
                "per_page": per_page,
            },
            CampaignFilter,
        )
        return await services.list_campaigns(actor, f)

    @post(
        "/",
        status_code=201,
        summary="Create a campaign: it starts at once, or at send_at (read in timezone when it has no offset)",
    )
    async def create(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[CampaignCreate]
    ) -> CampaignView:
        return await services.create_campaign(request.app.state.portal, actor, data, ip=client_ip(request))

    @post(
        "/files",
        status_code=201,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        summary="Campaign from file (CMP-6): upload a CSV, XLS or XLSX (≤ 10 MB) as the multipart field 'file'; its id,"
        " columns and first lines, for a campaign's file and file_columns",
    )
    async def upload_file(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        data: Annotated[CampaignFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> FileUpload:
        name, content = await read_upload(data.file)
        return await from_file.store(actor, name, content, request.app.state.portal.settings.var_dir)

    @post("/preview", status_code=200, summary="Dry run: recipients and cost by country and network, nothing stored")
    async def preview(
        self, request: Request, actor: NamedDependency[Actor], data: JSONBody[CampaignCreate]
    ) -> CostPreview:
        return await services.cost_preview(request.app.state.portal, actor, data)

    @get("/{campaign_id:int}")
    async def get_campaign(self, actor: NamedDependency[Actor], campaign_id: PathId) -> CampaignView:
        return await services.get_campaign(actor, campaign_id)

    @get("/{campaign_id:int}/costs", summary="What was charged, by country, network and MCCMNC")
    async def costs(self, actor: NamedDependency[Actor], campaign_id: PathId) -> list[CostLine]:
        return await services.cost_details(actor, campaign_id)

    @get("/{campaign_id:int}/timeline", summary="Its messages by status per hour, or per day when it spans > 3 days")
    async def timeline(self, actor: NamedDependency[Actor], campaign_id: PathId) -> Timeline:
        return await report.timeline(actor, campaign_id)

    @post(
        "/{campaign_id:int}/{action:str}",
        status_code=200,
        summary="pause, resume, cancel or start (a scheduled campaign now); 409 with the reason when not allowed",
    )
    async def act(
        self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId, action: FromPath[ApiAction]
    ) -> CampaignView:
        view = await services.act(request.app.state.portal, actor, campaign_id, action, ip=client_ip(request))
        assert view is not None
        return view

    @delete("/{campaign_id:int}", status_code=204, summary="Delete a campaign that is not in progress (admins)")
    async def remove(self, request: Request, actor: NamedDependency[Actor], campaign_id: PathId) -> None:
        await services.act(request.app.state.portal, actor, campaign_id, "delete", ip=client_ip(request))
