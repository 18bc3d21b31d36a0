import Echo from 'laravel-echo'
import Pusher from 'pusher-js'

window.Pusher = Pusher

window.Echo = new Echo({
    broadcaster: 'pusher',
    key: import.meta.env.VITE_POGO_APP_KEY || 'pogo-app',
    cluster: 'mt1',
    wsHost: import.meta.env.VITE_POGO_HOST || window.location.hostname,
    wsPort: import.meta.env.VITE_POGO_PORT || 80,
    wssPort: import.meta.env.VITE_POGO_WSS_PORT || 443,
    forceTLS: false,
    disableStats: true,
    enabledTransports: ['ws', 'wss'],
    authEndpoint: '/pogo/auth',
    userAuthentication: {
        endpoint: '/pogo/user-auth'
    }
})
