import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RulesService } from '@app/complaints';
import { DirectoryService } from '@app/directory';
import { Page, mapPage } from '@app/shared';
import { ApiProblems, ApiWriteProblems } from '../http/api-problems';
import { Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ApiPagedList, ListQuery } from '../http/list-query.dto';
import { CreateOfficeRequest, OfficeResponse, UpdateOfficeRequest } from './directory.dto';
import { officeView } from './directory.views';

@ApiTags('directory')
@ApiExtraModels(OfficeResponse)
@Controller('v1/offices')
export class OfficesController {
  constructor(
    private readonly directory: DirectoryService,
    private readonly rules: RulesService,
  ) {}

  @Post()
  @Roles('admin')
  @ApiOperation({
    summary: 'Create a regulator office or partner body (admin)',
    description:
      'regionCodes are prefixes of 6-digit region codes. A ticket escalates to the office with the longest matching prefix; when two offices declare the same prefix, the one created first wins.',
  })
  @ApiCreatedResponse({ type: OfficeResponse })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  async create(@Body() body: CreateOfficeRequest): Promise<OfficeResponse> {
    this.rules.assertKnown(body.ruleSet);
    return officeView(await this.directory.createOffice(body));
  }

  @Get()
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'List offices (admin, regulator: for transfers)' })
  @ApiPagedList(OfficeResponse)
  async list(@Query() q: ListQuery): Promise<Page<OfficeResponse>> {
    return mapPage(await this.directory.listOffices(q), officeView);
  }

  @Patch(':officeId')
  @Roles('admin')
  @ApiOperation({
    summary: "Change an office's rule set (admin)",
    description:
      'Tickets escalated from now on use the new set; a ticket keeps the set it was escalated under.',
  })
  @ApiOkResponse({ type: OfficeResponse })
  @ApiWriteProblems()
  async update(
    @IdParam('officeId') id: string,
    @Body() body: UpdateOfficeRequest,
  ): Promise<OfficeResponse> {
    this.rules.assertKnown(body.ruleSet);
    return officeView(await this.directory.setOfficeRuleSet(id, body.ruleSet));
  }

  @Get(':officeId')
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'One office (admin, regulator)' })
  @ApiOkResponse({ type: OfficeResponse })
  @ApiProblems('UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND')
  async get(@IdParam('officeId') id: string): Promise<OfficeResponse> {
    return officeView(await this.directory.getOffice(id));
  }
}
