<?php

use Illuminate\Support\Facades\Broadcast;

/*
|--------------------------------------------------------------------------
| Broadcast Channels
|--------------------------------------------------------------------------
|
| The channels your application broadcasts on, and who may listen to the
| private and presence ones: /pogo/auth and the websocket-worker.php auth
| worker both answer with these callbacks.
|
*/

Broadcast::channel('App.Models.User.{id}', function ($user, $id) {
    return (int) $user->id === (int) $id;
});
