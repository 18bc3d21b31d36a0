<?php

namespace Pogo\WebSocket;

use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Contracts\Foundation\Application;
use Illuminate\Contracts\Http\Kernel;
use Illuminate\Foundation\Http\Middleware\VerifyCsrfToken;
use Illuminate\Http\Request;
use Illuminate\Pipeline\Pipeline;
use Illuminate\Routing\Route;
use Illuminate\Routing\Router;
use Illuminate\Support\Facades\Facade;
use Pogo\WebSocket\Http\AuthController;
use Symfony\Component\HttpFoundation\Response;
use Throwable;

/**
 * The Laravel side of the pogo_websocket auth workers
 * (public/websocket-worker.php): boots the application once, then answers
 * each auth request the module sends (socket_id and channel_name, or only
 * socket_id for pusher:signin, with the WebSocket request's cookies and
 * Authorization header) as /pogo/auth or /pogo/user-auth would.
 */
final class AuthWorker
{
    /** @var list<string|\Closure> */
    private array $middleware;

    /** The route the requests are matched to, for middleware that reads it (SubstituteBindings). */
    private Route $route;

    public function __construct(private Application $app)
    {
        // As the HTTP kernel does: a request bound before booting, so that binding each
        // request later fires the rebinding callbacks (the request's user resolver).
        $app->instance('request', Request::create('http://localhost/'));
        $app->make(Kernel::class)->bootstrap();

        // The auth routes' middleware (the session's user), minus the CSRF
        // check: these requests come from the server, not from a page.
        $router = $app->make(Router::class);
        $this->route = (new Route(['POST'], $app['config']->get('pogo-websocket.routes.auth', '/pogo/auth'), ['uses' => AuthController::class.'@channel']))
            ->setRouter($router)
            ->setContainer($app);
        $this->route->middleware($app['config']->get('pogo-websocket.routes.middleware', ['web']));
        $this->route->withoutMiddleware(VerifyCsrfToken::class);
        $this->middleware = $router->gatherRouteMiddleware($this->route);
    }

    /** Answers one auth request. */
    public function handle(Request $request): Response
    {
        $this->reset($request);
        try {
            return (new Pipeline($this->app))
                ->send($request)
                ->through($this->middleware)
                ->then(function (Request $request): Response {
                    $controller = $this->app->make(AuthController::class);
                    try {
                        return $request->has('channel_name') ? $controller->channel($request) : $controller->user($request);
                    } catch (Throwable $e) {
                        return $this->render($request, $e);
                    }
                });
        } catch (Throwable $e) {
            return $this->render($request, $e);
        }
    }

    /** Forgets what the previous request left in the long-lived application. */
    private function reset(Request $request): void
    {
        $request->headers->set('Accept', 'application/json'); // errors as JSON, not pages
        $route = clone $this->route;
        $route->bind($request);
        $request->setRouteResolver(fn () => $route);
        $this->app->instance('request', $request); // rebinding sets the request's user resolver
        Facade::clearResolvedInstance('request');
        $this->app['auth']->forgetGuards();
        $this->app['session']->forgetDrivers();
        $this->app->forgetInstance('session.store');
        $this->app['cookie']->flushQueuedCookies();
        $this->app['url']->setRequest($request);
    }

    private function render(Request $request, Throwable $e): Response
    {
        $handler = $this->app->make(ExceptionHandler::class);
        $handler->report($e);

        return $handler->render($request, $e);
    }
}
