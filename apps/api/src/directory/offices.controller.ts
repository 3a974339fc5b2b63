import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { DirectoryService } from '@app/directory';
import { Page } from '@app/shared';
import { ApiProblems } from '../http/api-problems';
import { Roles } from '../http/auth';
import { IdParam } from '../http/id-param';
import { ListQuery, pageSchema } from '../http/list-query.dto';
import { CreateOfficeRequest, OfficeResponse } from './directory.dto';
import { officeView } from './directory.views';

@ApiTags('directory')
@ApiExtraModels(OfficeResponse)
@Controller('v1/offices')
export class OfficesController {
  constructor(private readonly directory: DirectoryService) {}

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
    return officeView(await this.directory.createOffice(body));
  }

  @Get()
  @Roles('admin', 'regulator')
  @ApiOperation({ summary: 'List offices (admin, regulator: for transfers)' })
  @ApiOkResponse({ schema: pageSchema(getSchemaPath(OfficeResponse)) })
  @ApiProblems('VALIDATION_FAILED', 'UNAUTHENTICATED', 'FORBIDDEN')
  async list(@Query() q: ListQuery): Promise<Page<OfficeResponse>> {
    const page = await this.directory.listOffices(q);
    return { items: page.items.map(officeView), nextCursor: page.nextCursor };
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
