import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export class NoticeDto {
  @ApiProperty({ example: '国务院办公厅关于2027年部分节假日安排的通知' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(300)
  title: string;
  @ApiPropertyOptional({
    type: String,
    example: '2026-11-12',
    nullable: true,
    description: 'publication date',
  })
  @IsOptional()
  @Matches(DATE, { message: 'date must be YYYY-MM-DD' })
  date?: string | null;
  @ApiPropertyOptional({ example: 'https://www.gov.cn/…' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  url?: string;
}

export class PutCalendarRequest {
  @ApiProperty({ type: NoticeDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => NoticeDto)
  notice: NoticeDto;
  @ApiProperty({
    type: [String],
    example: ['2027-01-01', '2027-02-05'],
    description: 'every day off of the arrangement (weekends inside a break may be listed)',
  })
  @IsArray()
  @ArrayMaxSize(366)
  @Matches(DATE, { each: true, message: 'each holiday must be YYYY-MM-DD' })
  holidays: string[];
  @ApiProperty({
    type: [String],
    example: ['2027-02-20'],
    description: 'weekend days that are working days (调休)',
  })
  @IsArray()
  @ArrayMaxSize(120)
  @Matches(DATE, { each: true, message: 'each workday must be YYYY-MM-DD' })
  workdays: string[];
}

export class CalendarResponse {
  @ApiProperty() year: number;
  @ApiProperty({ enum: ['official', 'estimated'] }) source: 'official' | 'estimated';
  @ApiProperty({ description: 'official version (1, 2, …); 0 for an estimate' }) version: number;
  @ApiProperty({ type: NoticeDto, nullable: true }) notice: NoticeDto | null;
  @ApiProperty({ type: [String] }) holidays: string[];
  @ApiProperty({ type: [String] }) workdays: string[];
}

export class CalendarVersionResponse extends CalendarResponse {
  @ApiProperty({
    example: 'api:admin-user',
    description: 'chinese-days@<version>, file:<name> or api:<sub>',
  })
  loadedFrom: string;
  @ApiProperty() createdAt: string;
}

export class CalendarVersionsResponse {
  @ApiProperty({ type: [CalendarVersionResponse] }) items: CalendarVersionResponse[];
}

export class RuleSetResponse {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() source: string;
  @ApiProperty() version: number;
  @ApiPropertyOptional() acceptWorkdays?: number;
  @ApiPropertyOptional({ description: 'clock hours, holidays included' }) acceptHours?: number;
  @ApiPropertyOptional() investigationWorkdays?: number;
  @ApiProperty() mediationWorkdays: number;
  @ApiProperty() appealWindowWorkdays: number;
  @ApiProperty() reviewWorkdays: number;
  @ApiProperty() maxExtensionWorkdays: number;
  @ApiProperty({ description: 'the RULE_SET default for offices that name none' }) default: boolean;
}

export class RuleSetsResponse {
  @ApiProperty({ type: [RuleSetResponse] }) items: RuleSetResponse[];
}
