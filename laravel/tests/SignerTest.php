<?php

namespace Pogo\WebSocket\Tests;

use PHPUnit\Framework\TestCase;
use Pogo\WebSocket\Pusher\Signer;

/** The package's own Pusher signing, against the vectors of Pusher's documentation. */
class SignerTest extends TestCase
{
    private Signer $signer;

    protected function setUp(): void
    {
        $this->signer = new Signer('278d425bdf160c739803', '7ad3773142a6692b25b8');
    }

    public function test_http_api_query_matches_pushers_worked_example(): void
    {
        $body = '{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}';

        $query = $this->signer->signedQuery('POST', '/apps/3/events', $body, [], 1353088179);

        $this->assertSame([
            'auth_key' => '278d425bdf160c739803',
            'auth_timestamp' => '1353088179',
            'auth_version' => '1.0',
            'body_md5' => 'ec365a775a4cd0599faeb73354201b6f',
            'auth_signature' => 'da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c',
        ], $query);
    }

    public function test_http_api_query_signs_extra_parameters_with_lower_case_sorted_keys(): void
    {
        $a = $this->signer->signedQuery('GET', '/apps/3/channels', '', ['Filter_By_Prefix' => 'presence-', 'info' => 'user_count'], 1353088179);
        $b = $this->signer->signedQuery('GET', '/apps/3/channels', '', ['info' => 'user_count', 'filter_by_prefix' => 'presence-'], 1353088179);

        $this->assertArrayNotHasKey('body_md5', $a);
        $this->assertSame($b['auth_signature'], $a['auth_signature']);
        $this->assertSame(hash_hmac('sha256', "GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&filter_by_prefix=presence-&info=user_count", '7ad3773142a6692b25b8'), $a['auth_signature']);
    }

    public function test_channel_and_user_auth_match_pushers_vectors(): void
    {
        $this->assertSame(
            '278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4',
            $this->signer->channelAuth('1234.1234', 'private-foobar'),
        );
        $this->assertSame(
            '278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80',
            $this->signer->channelAuth('1234.1234', 'presence-foobar', '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'),
        );
        $this->assertSame(
            '278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba',
            $this->signer->userAuth('1234.1234', '{"id":"12345"}'),
        );
    }

    public function test_webhook_signature_is_the_hmac_of_the_body(): void
    {
        $body = '{"time_ms":1,"events":[]}';
        $signature = hash_hmac('sha256', $body, '7ad3773142a6692b25b8');

        $this->assertTrue($this->signer->verifiesWebhook($body, $signature));
        $this->assertTrue($this->signer->verifiesWebhook($body, strtoupper($signature)));
        $this->assertFalse($this->signer->verifiesWebhook($body.' ', $signature));
        $this->assertFalse((new Signer('k', ''))->verifiesWebhook($body, hash_hmac('sha256', $body, '')));
    }

    public function test_socket_ids_have_pushers_shape(): void
    {
        $this->assertTrue(Signer::isSocketId('123.456'));
        foreach (['', '123', '1.2.3', '.1', '1.', 'a.1', "1.1\n", str_repeat('1', 64).'.1'] as $bad) {
            $this->assertFalse(Signer::isSocketId($bad), $bad);
        }
    }
}
