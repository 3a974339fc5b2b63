import { Injectable, Param, PipeTransform } from '@nestjs/common';
import { DomainError } from '@app/shared';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An id that cannot exist is simply not found (no 500 from the database's uuid cast). */
@Injectable()
export class IdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID.test(value)) throw new DomainError('NOT_FOUND', 'no such resource');
    return value.toLowerCase();
  }
}

export const IdParam = (name: string) => Param(name, IdPipe);
