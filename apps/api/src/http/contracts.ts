/*
 * The documented responses are the domain's views, checked by the compiler: a DTO class (what
 * the OpenAPI document says) and the view it documents must fit each other, so a field added,
 * removed or retyped on one side and not the other fails `tsc`.
 *
 *   export type Contracts = [Expect<Same<TicketView, TicketResponse>>, …];
 */

/** true when every `From` is a `To`. */
export type Assignable<From, To> = [From] extends [To] ? true : false;

/** true when each is the other (assignable both ways). */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** Fails to compile unless `T` is `true`. */
export type Expect<T extends true> = T;
