/**
 * The type of an actor's handle, apart from its class (client/actor_handle.ts) so that the
 * option types can name it. Browser-safe; types only.
 *
 * @module
 */

/**
 * The methods of an actor of class `T` as its handle has them: each returns a Promise of what
 * the method returns (awaited). At run time a handle is an `Actor`; disposing of it (`using`)
 * lets go of its hold on the actor.
 */
export type ActorHandle<T> =
  & {
    readonly [K in keyof T as T[K] extends (...args: any[]) => unknown ? K : never]: T[K] extends
      (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  }
  & Disposable;
